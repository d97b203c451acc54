// Compiled into every layer library so that a layer whose sources are still being written links
// as an empty library instead of failing CMake's configure step.
namespace lastack::detail {
[[maybe_unused]] static const int layer_anchor = 0;
}  // namespace lastack::detail
