// The omnirm binary: every subcommand lives in src/cli/.
#include "omnirm/cli/app.h"

int main(int argc, char** argv) { return omnirm::cli::run(argc, argv); }
