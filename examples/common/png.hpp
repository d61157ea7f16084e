// Small raster images for the reports: PNG (zlib-compressed, no libpng) embedded as data URIs,
// so a report stays one self-contained file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ex {

/// An 8-bit image, row-major; channels 1 (gray) or 3 (RGB).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 1;
  std::vector<uint8_t> pixels;  // width · height · channels bytes
};

/// The image encoded as a PNG file.
std::vector<uint8_t> encode_png(const Image& image);
/// RFC 4648 base64 of `bytes`.
std::string base64(const std::vector<uint8_t>& bytes);
/// "data:image/png;base64,…" for an <img src> or an SVG <image href>.
std::string png_data_uri(const Image& image);

}  // namespace ex
