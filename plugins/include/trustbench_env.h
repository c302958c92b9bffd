/*
 * trustbench_env.h -- the trustbench env-provider ABI, version 1.0.
 *
 * An env provider is a library that offers environments to the harness
 * (`harness run --plugin libmyenvs.so --env MyEnv-v0`): a second kind of
 * plugin, built on the rules of the algorithm ABI in trustbench_plugin.h
 * (whose status codes, spaces and tb_step_out it reuses). One library may
 * export this entry, the algorithm entry, or both.
 *
 * This header is the source of truth. The Rust mirror lives in
 * plugins/sdk/src/env_abi.rs and a test fails when the two disagree on any
 * struct size or field offset.
 *
 * Shape:
 *
 *   trustbench_env_provider_v1()  ->  const tb_env_provider *   (static, never freed)
 *        .env_count(), .env(i)  ->  const tb_env_descriptor *
 *        .create(id, options_json, num_envs, seeds, &batch, err, err_cap)
 *   batch->reset / step / last_error / extension / destroy
 *
 * The harness owns the world: it decides the seeds, counts every step
 * against the run's budget, records episodes and evaluates. A provider
 * only simulates. Nothing it returns is trusted: the harness checks struct
 * sizes, NULLs, UTF-8, lengths and that observations and rewards are
 * finite, and fails the run naming the provider otherwise.
 *
 * Rules (as in trustbench_plugin.h):
 *   - Versioning. Every top-level struct begins with its own size in bytes
 *     (struct_size); structs only grow at the end and a reader never reads
 *     beyond the size the writer declared. The entry carries {abi_major,
 *     abi_minor}: a host refuses another major and accepts any minor.
 *   - Ownership. The side that allocates frees. Pointers passed into a
 *     function are valid for that call only; results come back through
 *     caller-owned buffers with an explicit length or capacity.
 *   - Errors. Functions return a tb_status; no exception, longjmp or panic
 *     may cross this boundary. The text of a batch's last failure is copied
 *     out by last_error().
 *   - Threads. [any-thread]: any thread, at any time. [batch-thread]: calls
 *     on one batch never overlap, but successive calls may come from
 *     different threads, and different batches may be driven concurrently on
 *     different threads -- so a provider keeps no unsynchronised global
 *     mutable state.
 *   - Numbers. Observations and actions are IEEE-754 doubles, row-major,
 *     copy-major: value j of copy i is at [i * dim + j]. A discrete action
 *     is its index stored as a double. Byte observations: the extension
 *     TB_ENV_EXT_BYTE_OBSERVATIONS.
 *   - Determinism. A copy reset with seed s and then given the same actions
 *     produces the same observations, rewards and flags, bit for bit, in
 *     any batch and on any thread.
 */
#ifndef TRUSTBENCH_ENV_H
#define TRUSTBENCH_ENV_H

#include "trustbench_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TB_ENV_ABI_MAJOR 1
#define TB_ENV_ABI_MINOR 0

/* The exported entry symbol; its name carries the major version. */
#define TB_ENV_ENTRY_SYMBOL "trustbench_env_provider_v1"

/* ----------------------------------------------------------- descriptors */

/* The descriptor's id is a family prefix ending in ':' ("gym:"): create()
 * accepts any id that starts with it (and says which it does not know). */
#define TB_ENV_FAMILY 1u
/* Option keys that options_json does not declare are accepted too and
 * handed to create() as given (a family whose envs take arbitrary
 * arguments). Without this flag the host refuses undeclared keys by name. */
#define TB_ENV_OPEN_OPTIONS 2u

/* One env (or family of envs) a provider offers. Static: it and its
 * strings live as long as the library is loaded. */
typedef struct tb_env_descriptor {
  uint32_t struct_size;       /* sizeof(tb_env_descriptor) as the provider knows it */
  uint32_t flags;             /* TB_ENV_FAMILY | TB_ENV_OPEN_OPTIONS, or 0 */
  const char *id;             /* versioned, case-sensitive: "PointMass-v0"; ASCII letters,
                                 digits and "-_.:/" */
  const char *description;    /* one line, for `harness list` */
  const char *options_json;   /* a JSON array of the options create() accepts, each
                                 {"key": "...", "default": "...", "valid": "...",
                                 "help": "..."} with string values; "[]" for none */
  uint64_t max_episode_steps; /* steps after which an episode is truncated with the
                                 default options; 0 when there is no such limit */
  uint64_t default_steps;     /* the training budget a run gets unless told otherwise */
} tb_env_descriptor;

/* ----------------------------------------------------------------- batch */

typedef struct tb_env_batch tb_env_batch;

/* N copies of one env, created together. Allocated by the provider in
 * create(), freed by the provider in destroy(). */
struct tb_env_batch {
  uint32_t struct_size;       /* sizeof(tb_env_batch) as the provider knows it */
  uint32_t num_envs;          /* N, as asked for */
  void *provider_data;        /* the provider's own state; the host never touches it */
  tb_space observation;       /* the spaces of one copy; they and their bounds are */
  tb_space action;            /* owned by the provider and live as long as the batch */

  /* Start a new episode of copies [first, first + count) and write their
   * first observations into obs_out (obs_len doubles, which must equal
   * count * observation.dim). `seeds` is NULL to continue each copy's own
   * random stream, or `count` seeds: copy first + k is reseeded with
   * seeds[k] first (Gymnasium's reset(seed=...)). [batch-thread] */
  tb_status (*reset)(const tb_env_batch *self, uint32_t first, uint32_t count,
                     const uint64_t *seeds, double *obs_out, size_t obs_len);

  /* Step copies [first, first + count) with `actions` (actions_len doubles,
   * which must equal count * action.dim) and write into `out`, exactly as
   * the harness's host->step writes into a tb_step_out: rewards,
   * terminated (a true end: no bootstrap), truncated (cut off: bootstrap
   * from V(s')), and for a copy whose episode ended, its last observation
   * into final_observations (when not NULL) while observations already
   * holds the first observation of its next episode: a copy resets itself,
   * continuing its random stream. Box actions outside their bounds are
   * clipped. [batch-thread] */
  tb_status (*step)(const tb_env_batch *self, uint32_t first, uint32_t count,
                    const double *actions, size_t actions_len, const tb_step_out *out);

  /* Copy the text of the most recent failure (UTF-8, NUL-terminated,
   * truncated to cap) into buf and return its full length without the
   * NUL. [batch-thread] */
  size_t (*last_error)(const tb_env_batch *self, char *buf, size_t cap);

  /* An optional capability by string id (TB_ENV_EXT_*), or NULL when
   * absent. The pointer lives as long as the batch. [batch-thread] */
  const void *(*extension)(const tb_env_batch *self, const char *id);

  /* Free the batch; `self` is invalid afterwards. [batch-thread] */
  void (*destroy)(const tb_env_batch *self);
};

/* ------------------------------------------------------------ extensions */

/* Extension "trustbench.env-render-rgb/1": a picture of a copy's current
 * state, for `harness render` and a run's eval.gif. */
#define TB_ENV_EXT_RENDER_RGB "trustbench.env-render-rgb/1"

typedef struct tb_env_render_rgb {
  uint32_t struct_size;       /* sizeof(tb_env_render_rgb) as the provider knows it */

  /* Draw copy `env` as width x height RGB pixels, row-major from the
   * top-left, 3 bytes per pixel, into rgb_out (len must equal
   * width * height * 3). [batch-thread] */
  tb_status (*render)(const tb_env_batch *self, uint32_t env, uint32_t width, uint32_t height,
                      uint8_t *rgb_out, size_t len);
} tb_env_render_rgb;

/* Extension "trustbench.env-snapshot/1": a copy's complete state as bytes
 * -- everything that decides its future: physics, time-limit counter and
 * its random stream -- for the vine method, which branches several actions
 * from one state with common random numbers. Exact: after load(), the same
 * actions give the same observations, rewards and flags, bit for bit, as
 * after the save(). A state saved from one batch loads into any batch of
 * the same id and options made by the same library. Offer it only when the
 * restore is exact; without it the harness refuses the vine with an error
 * that names the env. */
#define TB_ENV_EXT_SNAPSHOT "trustbench.env-snapshot/1"

typedef struct tb_env_snapshot {
  uint32_t struct_size;       /* sizeof(tb_env_snapshot) as the provider knows it */

  /* Serialise copy `env`'s state into buf (capacity cap) and set *len to
   * the size needed. With cap too small (0 is fine), write nothing and
   * return TB_BUFFER_TOO_SMALL: call again with *len bytes.
   * [batch-thread] */
  tb_status (*save)(const tb_env_batch *self, uint32_t env, uint8_t *buf, size_t cap,
                    size_t *len);

  /* Put copy `env` into the state `buf` (len bytes from save()) holds.
   * [batch-thread] */
  tb_status (*load)(const tb_env_batch *self, uint32_t env, const uint8_t *buf, size_t len);
} tb_env_snapshot;

/* Extension "trustbench.env-byte-observations/1": observations as bytes,
 * for envs whose observations are bytes (pixels). Byte b of value j stands
 * for (double)b * TB_BYTE_OBSERVATION_SCALE, bit for bit the double that
 * reset and step write for the same state; the harness then hands the
 * bytes on to algorithms that take them (trustbench.byte-observations/1).
 * Same calls as reset and step, with byte buffers; obs_len counts bytes. */
#define TB_ENV_EXT_BYTE_OBSERVATIONS "trustbench.env-byte-observations/1"

typedef struct tb_env_byte_observations {
  uint32_t struct_size;       /* sizeof(tb_env_byte_observations) as the provider knows it */
  /* As batch->reset, writing obs_len bytes. [batch-thread] */
  tb_status (*reset)(const tb_env_batch *self, uint32_t first, uint32_t count,
                     const uint64_t *seeds, uint8_t *obs_out, size_t obs_len);
  /* As batch->step, writing byte observations. [batch-thread] */
  tb_status (*step)(const tb_env_batch *self, uint32_t first, uint32_t count,
                    const double *actions, size_t actions_len, const tb_byte_step_out *out);
} tb_env_byte_observations;

/* ----------------------------------------------------------------- entry */

/* The library's static entry. It and everything it points to live as long
 * as the library is loaded. */
typedef struct tb_env_provider {
  uint32_t struct_size;       /* sizeof(tb_env_provider) as the provider knows it */
  uint32_t abi_major;         /* TB_ENV_ABI_MAJOR the provider was built against */
  uint32_t abi_minor;         /* TB_ENV_ABI_MINOR the provider was built against */
  const char *library_name;   /* e.g. "trustbench-c-envs"; recorded with each run */
  const char *library_version;

  /* Number of envs (or families) offered. [any-thread] */
  uint32_t (*env_count)(void);

  /* Descriptor of env i (0 <= i < count), static; NULL when out of range.
   * [any-thread] */
  const tb_env_descriptor *(*env)(uint32_t index);

  /* Create `num_envs` (>= 1) copies of env `env_id` with `options_json`, a
   * JSON object of string values ({"key": "value"}: every declared option,
   * defaults filled in by the host, plus any others a TB_ENV_OPEN_OPTIONS
   * env was given). `seeds` holds num_envs seeds: copy i's random stream
   * starts from seeds[i] at its first reset (unless that reset passes a seed
   * of its own). On success store the batch in *out and return TB_OK; on
   * failure (unknown id, a bad option value: name it and the valid ones)
   * copy the reason into err (capacity err_cap, NUL-terminated, truncated)
   * and return an error status. [any-thread] */
  tb_status (*create)(const char *env_id, const char *options_json, uint32_t num_envs,
                      const uint64_t *seeds, const tb_env_batch **out, char *err, size_t err_cap);
} tb_env_provider;

/* The one exported symbol. Returns the same static pointer on every call.
 * [any-thread] */
typedef const tb_env_provider *(*tb_env_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* TRUSTBENCH_ENV_H */
