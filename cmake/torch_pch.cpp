// Anchor translation unit for the precompiled torch headers (cmake/torch_pch.h).
