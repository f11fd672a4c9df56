// Rows of an image read from a file descriptor in one call from JavaScript (a Node-API addon,
// shared/fits/native.ts): readRows(fd, target, position, count, bytes, stride) reads `count`
// runs of `bytes` bytes, the r-th at file offset position + r·stride, into target one after
// another. A small rectangle of a wide image is many short rows far apart: one pread per row
// is then cheaper than one read of the whole span, and Node's fs.readSync wrapper costs about
// as much as the pread itself. Returns 0 when every byte was read, 1 + r when the file ended
// in row r, or −errno.
#include <node_api.h>

#include <cerrno>
#include <cstdint>
#include <unistd.h>

namespace {

napi_value Fail(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

napi_value ReadRows(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 6)
    return Fail(env, "readRows(fd, target, position, count, bytes, stride)");
  int32_t fd;
  double position, stride;
  uint32_t count, bytes;
  bool typed = false;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_is_typedarray(env, argv[1], &typed) != napi_ok || !typed ||
      napi_get_value_double(env, argv[2], &position) != napi_ok || napi_get_value_uint32(env, argv[3], &count) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &bytes) != napi_ok || napi_get_value_double(env, argv[5], &stride) != napi_ok)
    return Fail(env, "readRows: fd, position, count, bytes and stride are numbers, target a typed array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array)
    return Fail(env, "readRows: target is a Uint8Array");
  // Offsets must be exact in a double (2^53) and the rows must fit the target.
  if (position < 0 || stride < 0 || position + stride * count > 9007199254740992.0 || static_cast<uint64_t>(count) * bytes > length)
    return Fail(env, "readRows: the rows do not fit the target or lie beyond 2^53");
  int64_t result = 0;
  char* target = static_cast<char*>(data);
  for (uint32_t r = 0; r < count && result == 0; r++) {
    char* into = target + static_cast<size_t>(r) * bytes;
    const off_t at = static_cast<off_t>(position + stride * r);
    size_t done = 0;
    while (done < bytes) {
      const ssize_t n = pread(fd, into + done, bytes - done, at + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result = -errno;
        break;
      }
      if (n == 0) {
        result = 1 + static_cast<int64_t>(r);
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  napi_value value;
  napi_create_int64(env, result, &value);
  return value;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "readRows", NAPI_AUTO_LENGTH, ReadRows, nullptr, &fn);
  napi_set_named_property(env, exports, "readRows", fn);
  return exports;
}
