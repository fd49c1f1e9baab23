/*
 * AES-256-GCM seal/open into a caller's buffer, on the OpenSSL inside Node
 * (its symbols resolve against the node binary at load time; no -lcrypto).
 *
 *   const g = new Gcm(key32, forSeal);          key expansion once
 *   g.seal(iv12, aad, plain, dst, at)  → n+16   ciphertext ‖ tag written at dst[at]
 *   g.open(iv12, aad, sealed, dst, at) → n | -1 plaintext written at dst[at]; -1: the
 *                                               tag did not verify (dst range zeroed)
 *
 * No allocation per call: one EVP_CIPHER_CTX per object, re-initialised with
 * the frame's IV only. Every length and offset is checked before OpenSSL is
 * called: a wrong one throws, nothing is written out of bounds. dst may be
 * src itself (same start: in place) or not overlap it at all. The tag is
 * compared inside EVP_DecryptFinal_ex.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <openssl/evp.h>

#define KEY_BYTES 32
#define IV_BYTES 12
#define TAG_BYTES 16
/* Frames are 64 KiB; anything near INT_MAX (OpenSSL's length type) is refused. */
#define MAX_BYTES (1 << 30)

typedef struct {
  EVP_CIPHER_CTX *ctx;
  int seal;
} Gcm;

static const napi_type_tag GCM_TAG = {0x68616e756c2d6763ULL, 0x6d2d616573323536ULL};

#define CHECK(env, call)                                      \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error((env), NULL, "hanul-gcm: N-API call failed"); \
      return NULL;                                            \
    }                                                         \
  } while (0)

/* A Uint8Array (a Buffer is one): its bytes and length. NULL (with a TypeError thrown) otherwise. */
static int bytes_arg(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len) {
  bool is;
  napi_typedarray_type type;
  void *p;
  napi_value ab;
  size_t off;
  char msg[96];
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok || type != napi_uint8_array) {
    snprintf(msg, sizeof msg, "hanul-gcm: %s must be a Uint8Array", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  if (*len > MAX_BYTES) {
    snprintf(msg, sizeof msg, "hanul-gcm: %s is too long", name);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *data = p;
  return 1;
}

/* A non-negative integer offset no larger than `limit`. */
static int offset_arg(napi_env env, napi_value v, size_t limit, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > (double)limit || d != (double)(size_t)d) {
    napi_throw_range_error(env, NULL, "hanul-gcm: offset out of range");
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

/* [a, a+an) and [b, b+bn) either start at the same byte (in place) or do not overlap. */
static int in_place_or_apart(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return an == 0 || bn == 0 || x == y || x + an <= y || y + bn <= x;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Gcm *g = data;
  EVP_CIPHER_CTX_free(g->ctx); /* cleanses the key schedule */
  free(g);
}

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  uint8_t *key;
  size_t key_len;
  bool seal;
  napi_value target;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  CHECK(env, napi_get_new_target(env, info, &target));
  if (target == NULL) {
    napi_throw_type_error(env, NULL, "hanul-gcm: Gcm is a constructor (use new)");
    return NULL;
  }
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "hanul-gcm: new Gcm(key, seal)");
    return NULL;
  }
  if (!bytes_arg(env, argv[0], "key", &key, &key_len)) return NULL;
  if (key_len != KEY_BYTES) {
    napi_throw_range_error(env, NULL, "hanul-gcm: key must be 32 bytes");
    return NULL;
  }
  if (napi_get_value_bool(env, argv[1], &seal) != napi_ok) {
    napi_throw_type_error(env, NULL, "hanul-gcm: seal must be a boolean");
    return NULL;
  }
  Gcm *g = malloc(sizeof *g);
  if (g == NULL) {
    napi_throw_error(env, NULL, "hanul-gcm: out of memory");
    return NULL;
  }
  g->seal = seal;
  g->ctx = EVP_CIPHER_CTX_new();
  if (g->ctx == NULL || EVP_CipherInit_ex(g->ctx, EVP_aes_256_gcm(), NULL, key, NULL, seal ? 1 : 0) != 1) {
    EVP_CIPHER_CTX_free(g->ctx);
    free(g);
    napi_throw_error(env, NULL, "hanul-gcm: EVP_CipherInit_ex failed");
    return NULL;
  }
  if (napi_wrap(env, self, g, finalize, NULL, NULL) != napi_ok) {
    finalize(env, g, NULL);
    napi_throw_error(env, NULL, "hanul-gcm: napi_wrap failed");
    return NULL;
  }
  CHECK(env, napi_type_tag_object(env, self, &GCM_TAG));
  return self;
}

/* The shared part of seal and open: `this`, and the five arguments checked. */
typedef struct {
  Gcm *g;
  uint8_t *iv, *aad, *src, *dst;
  size_t iv_len, aad_len, src_len, dst_len, at;
} Call;

static int call_args(napi_env env, napi_callback_info info, Call *c) {
  size_t argc = 5;
  napi_value argv[5], self;
  bool tagged;
  void *g;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "hanul-gcm: N-API call failed");
    return 0;
  }
  if (napi_check_object_type_tag(env, self, &GCM_TAG, &tagged) != napi_ok || !tagged || napi_unwrap(env, self, &g) != napi_ok) {
    napi_throw_type_error(env, NULL, "hanul-gcm: not a Gcm");
    return 0;
  }
  c->g = g;
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "hanul-gcm: (iv, aad, src, dst, at) expected");
    return 0;
  }
  if (!bytes_arg(env, argv[0], "iv", &c->iv, &c->iv_len) || !bytes_arg(env, argv[1], "aad", &c->aad, &c->aad_len) ||
      !bytes_arg(env, argv[2], "src", &c->src, &c->src_len) || !bytes_arg(env, argv[3], "dst", &c->dst, &c->dst_len) ||
      !offset_arg(env, argv[4], c->dst_len, &c->at))
    return 0;
  if (c->iv_len != IV_BYTES) {
    napi_throw_range_error(env, NULL, "hanul-gcm: iv must be 12 bytes");
    return 0;
  }
  return 1;
}

static napi_value gcm_seal(napi_env env, napi_callback_info info) {
  Call c;
  int a = 0, n = 0, f = 0;
  napi_value r;
  if (!call_args(env, info, &c)) return NULL;
  if (!c.g->seal) {
    napi_throw_type_error(env, NULL, "hanul-gcm: this Gcm opens, it does not seal");
    return NULL;
  }
  if (c.dst_len - c.at < c.src_len + TAG_BYTES) {
    napi_throw_range_error(env, NULL, "hanul-gcm: dst too short");
    return NULL;
  }
  uint8_t *out = c.dst + c.at;
  if (!in_place_or_apart(c.src, c.src_len, out, c.src_len + TAG_BYTES)) {
    napi_throw_range_error(env, NULL, "hanul-gcm: src and dst overlap");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = c.g->ctx;
  if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, c.iv) != 1 ||
      (c.aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &a, c.aad, (int)c.aad_len) != 1) ||
      (c.src_len > 0 && EVP_EncryptUpdate(ctx, out, &n, c.src, (int)c.src_len) != 1) || (size_t)n != c.src_len ||
      EVP_EncryptFinal_ex(ctx, out + n, &f) != 1 || f != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, out + c.src_len) != 1) {
    napi_throw_error(env, NULL, "hanul-gcm: encryption failed");
    return NULL;
  }
  CHECK(env, napi_create_uint32(env, (uint32_t)(c.src_len + TAG_BYTES), &r));
  return r;
}

static napi_value gcm_open(napi_env env, napi_callback_info info) {
  Call c;
  int a = 0, n = 0, f = 0;
  napi_value r;
  if (!call_args(env, info, &c)) return NULL;
  if (c.g->seal) {
    napi_throw_type_error(env, NULL, "hanul-gcm: this Gcm seals, it does not open");
    return NULL;
  }
  if (c.src_len < TAG_BYTES) {
    /* Too short to hold a tag: fails authentication like a bad tag would. */
    CHECK(env, napi_create_int32(env, -1, &r));
    return r;
  }
  size_t len = c.src_len - TAG_BYTES;
  if (c.dst_len - c.at < len) {
    napi_throw_range_error(env, NULL, "hanul-gcm: dst too short");
    return NULL;
  }
  uint8_t *out = c.dst + c.at;
  if (!in_place_or_apart(c.src, c.src_len, out, len)) {
    napi_throw_range_error(env, NULL, "hanul-gcm: src and dst overlap");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = c.g->ctx;
  /* SET_TAG copies the tag before the ciphertext (which may be overwritten in place) is read. */
  if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, c.iv) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, c.src + len) != 1 ||
      (c.aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &a, c.aad, (int)c.aad_len) != 1) ||
      (len > 0 && EVP_DecryptUpdate(ctx, out, &n, c.src, (int)len) != 1)) {
    if (len > 0) memset(out, 0, len);
    napi_throw_error(env, NULL, "hanul-gcm: decryption failed");
    return NULL;
  }
  if ((size_t)n != len || EVP_DecryptFinal_ex(ctx, out + n, &f) != 1 || f != 0) {
    /* Unauthenticated plaintext never stays in the caller's buffer. */
    if (len > 0) memset(out, 0, len);
    CHECK(env, napi_create_int32(env, -1, &r));
    return r;
  }
  CHECK(env, napi_create_uint32(env, (uint32_t)len, &r));
  return r;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor methods[] = {
      {"seal", NULL, gcm_seal, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, gcm_open, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls, version;
  CHECK(env, napi_define_class(env, "Gcm", NAPI_AUTO_LENGTH, construct, NULL, 2, methods, &cls));
  CHECK(env, napi_set_named_property(env, exports, "Gcm", cls));
  CHECK(env, napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version));
  CHECK(env, napi_set_named_property(env, exports, "openssl", version));
  return exports;
}
