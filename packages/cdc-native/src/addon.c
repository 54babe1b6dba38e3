/* N-API binding for the FastCDC loop. Plain node_api.h, no C++ wrapper. JS validates the
 * parameters (src/params.ts); this file checks only what would make C read out of bounds. */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "fastcdc.h"

#define CHECK(env, call)                                                   \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error((env), "CDC_NATIVE_INTERNAL", "N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "CDC_NATIVE_BAD_ARGUMENT", msg);
  return NULL;
}

static void free_params(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static int get_size(napi_env env, napi_value v, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0) return 0;
  *out = (size_t)d;
  return 1;
}

/* createCutter(tables: BigUint64Array(516) = gear[256], gear_ls[256], mask_s, mask_l,
 *              mask_s_ls, mask_l_ls; min, avg, max) -> external */
static napi_value create_cutter(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "createCutter(tables, min, avg, max): 4 arguments expected");

  bool is_ta = false;
  CHECK(env, napi_is_typedarray(env, argv[0], &is_ta));
  if (!is_ta) return throw_type(env, "createCutter: tables must be a BigUint64Array(516)");
  napi_typedarray_type type;
  size_t length;
  void *data;
  CHECK(env, napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (type != napi_biguint64_array || length != 516)
    return throw_type(env, "createCutter: tables must be a BigUint64Array(516)");

  kcdc_params *p = malloc(sizeof *p);
  if (p == NULL) {
    napi_throw_error(env, "CDC_NATIVE_OOM", "createCutter: out of memory");
    return NULL;
  }
  const uint64_t *t = data;
  memcpy(p->gear, t, sizeof p->gear);
  memcpy(p->gear_ls, t + 256, sizeof p->gear_ls);
  p->mask_s = t[512];
  p->mask_l = t[513];
  p->mask_s_ls = t[514];
  p->mask_l_ls = t[515];
  if (!get_size(env, argv[1], &p->min_size) || !get_size(env, argv[2], &p->avg_size) ||
      !get_size(env, argv[3], &p->max_size) || p->min_size < 2 || p->max_size < p->min_size) {
    free(p);
    return throw_type(env, "createCutter: min, avg, max must be sizes with 2 <= min <= max");
  }

  napi_value ext;
  if (napi_create_external(env, p, free_params, NULL, &ext) != napi_ok) {
    free(p);
    napi_throw_error(env, "CDC_NATIVE_INTERNAL", "createCutter: napi_create_external failed");
    return NULL;
  }
  return ext;
}

/* cuts(cutter, data: Uint8Array, start, end, final: boolean, out: Uint32Array) -> count.
 * Reads data[start..end) in place (no copy); writes chunk lengths to out. */
static napi_value cuts(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_type(env, "cuts(cutter, data, start, end, final, out): 6 arguments expected");

  kcdc_params *p;
  if (napi_get_value_external(env, argv[0], (void **)&p) != napi_ok)
    return throw_type(env, "cuts: cutter must come from createCutter");

  bool is_ta = false;
  napi_typedarray_type type;
  size_t data_len, out_len;
  void *data, *out;
  CHECK(env, napi_is_typedarray(env, argv[1], &is_ta));
  if (!is_ta) return throw_type(env, "cuts: data must be a Uint8Array");
  CHECK(env, napi_get_typedarray_info(env, argv[1], &type, &data_len, &data, NULL, NULL));
  if (type != napi_uint8_array) return throw_type(env, "cuts: data must be a Uint8Array");
  CHECK(env, napi_is_typedarray(env, argv[5], &is_ta));
  if (!is_ta) return throw_type(env, "cuts: out must be a Uint32Array");
  CHECK(env, napi_get_typedarray_info(env, argv[5], &type, &out_len, &out, NULL, NULL));
  if (type != napi_uint32_array) return throw_type(env, "cuts: out must be a Uint32Array");

  size_t start, end;
  if (!get_size(env, argv[2], &start) || !get_size(env, argv[3], &end) || start > end || end > data_len)
    return throw_type(env, "cuts: need 0 <= start <= end <= data.length");
  bool final = false;
  CHECK(env, napi_get_value_bool(env, argv[4], &final));

  size_t count = 0;
  if (end > start && data != NULL)
    count = kcdc_cuts(p, (const uint8_t *)data + start, end - start, final, (uint32_t *)out, out_len);
  napi_value result;
  CHECK(env, napi_create_uint32(env, (uint32_t)count, &result));
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"createCutter", NULL, create_cutter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"cuts", NULL, cuts, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
