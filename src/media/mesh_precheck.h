// Checks on a 3D file before Assimp reads it: declared element counts against the limits,
// and, for PLY, that the body holds every element the header declares (Assimp loops forever
// on some cut-off binary PLY files and builds garbage from cut-off ASCII ones).
#pragma once

#include <string>

#include "omnirm/media/limits.h"

namespace omnirm::media::detail {

// Runs the checks that apply to the file's format (PLY header and body, binary STL triangle
// count, OBJ vertex and face line counts); other formats pass. Throws omnirm::UserError.
void precheck_mesh_file(const std::string& path, const MediaLimits& limits);

}  // namespace omnirm::media::detail
