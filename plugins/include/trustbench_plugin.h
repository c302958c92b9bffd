/*
 * trustbench_plugin.h -- the trustbench algorithm plugin ABI, version 1.0.
 *
 * This header is the source of truth. The Rust mirror lives in
 * plugins/sdk/src/abi.rs and a test fails when the two disagree on any struct
 * size or field offset.
 *
 * Shape (after CLAP and PostgreSQL's Pg_magic_struct):
 *
 *   trustbench_plugin_entry_v1()  ->  const tb_plugin_entry *   (static, never freed)
 *        .algorithm_count(), .algorithm(i)  ->  const tb_algorithm_descriptor *
 *        .create(id, config_json, spaces, host, &instance, err, err_cap)
 *   instance->train_iteration / act / save / load / last_error / extension / destroy
 *
 * Rules that hold for every function below:
 *   - Versioning. Every top-level struct begins with its own size in bytes
 *     (struct_size). Structs only ever grow at the end; a reader never reads
 *     a field that lies beyond the struct_size the writer declared. The entry
 *     also carries {abi_major, abi_minor}: a host refuses another major and
 *     accepts any minor.
 *   - Ownership. The side that allocates frees. Pointers passed into a
 *     function are valid for that call only unless stated otherwise; results
 *     come back through caller-owned buffers with an explicit capacity.
 *   - Errors. Functions return a tb_status; no exception, longjmp or Rust
 *     panic may cross this boundary. Text for the last failure of an instance
 *     is copied out by last_error().
 *   - Threads. The tags say who may call: [any-thread] any thread, at any
 *     time; [instance-thread] the one thread that currently drives the
 *     instance -- calls on one instance never overlap, but different
 *     instances may run concurrently on different threads, so a plugin keeps
 *     no unsynchronised global mutable state; [during-train] only from inside
 *     the plugin's own train_iteration, on the thread that called it.
 *   - Numbers. Observations and actions are IEEE-754 doubles, row-major,
 *     env-major: value j of env i is at [i * dim + j]. A discrete action is
 *     its index stored as a double. (Pixel observations can come as bytes
 *     instead: the host extension trustbench.byte-observations/1.)
 */
#ifndef TRUSTBENCH_PLUGIN_H
#define TRUSTBENCH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TB_ABI_MAJOR 1
#define TB_ABI_MINOR 0

/* The exported entry symbol. Its name carries the major version so that a
 * library built for another major is not even found by an old host. */
#define TB_ENTRY_SYMBOL "trustbench_plugin_entry_v1"

/* ---------------------------------------------------------------- status */

typedef int32_t tb_status;
#define TB_OK 0
/* Generic failure; the instance's last_error() says why. */
#define TB_ERROR 1
/* A caller buffer was too small; the needed length was reported. */
#define TB_BUFFER_TOO_SMALL 2
/* An argument was malformed (wrong length, NaN, out of range, NULL). */
#define TB_INVALID_ARGUMENT 3
/* Host only: the run's env-step budget is spent. The plugin should end its
 * train_iteration promptly and return TB_OK. */
#define TB_BUDGET_EXHAUSTED 4
/* Host only: an unknown env index or snapshot id. */
#define TB_NOT_FOUND 5

/* ---------------------------------------------------------------- spaces */

#define TB_SPACE_BOX 1u      /* a box of reals, bounds per element */
#define TB_SPACE_DISCRETE 2u /* one integer in [0, n) */

#define TB_MAX_RANK 4

/* One observation or action space. All pointers are owned by the host and
 * live as long as the instance created with them. */
typedef struct tb_space {
  uint32_t kind;              /* TB_SPACE_BOX or TB_SPACE_DISCRETE */
  uint32_t rank;              /* number of used entries of shape (box); 1 for discrete */
  uint32_t shape[TB_MAX_RANK];/* box: its shape, e.g. {4} or {4, 84, 84}; discrete: {1} */
  uint64_t dim;               /* number of doubles per env: product of shape (discrete: 1) */
  uint64_t n;                 /* discrete: number of choices; box: 0 */
  const double *low;          /* box: dim lower bounds (may be -inf); discrete: NULL */
  const double *high;         /* box: dim upper bounds (may be +inf); discrete: NULL */
} tb_space;

typedef struct tb_spaces {
  uint32_t struct_size;       /* sizeof(tb_spaces) as the host knows it */
  uint32_t num_envs;          /* N, the number of env copies stepped together */
  tb_space observation;
  tb_space action;
} tb_spaces;

/* ------------------------------------------------------------ host vtable */

/* Pass as `env` to reset every copy. */
#define TB_ALL_ENVS UINT32_MAX

/* Where a batched step writes. All buffers are owned by the caller (the
 * plugin) and must hold `count` entries of the given width. */
typedef struct tb_step_out {
  uint32_t struct_size;       /* sizeof(tb_step_out) as the plugin knows it */
  double *observations;       /* count * observation.dim; after an episode ends this
                                 already holds the first observation of the next one */
  double *final_observations; /* NULL, or count * observation.dim: for envs whose
                                 episode ended this step, the last observation of
                                 that episode (to bootstrap V(s') on truncation);
                                 other rows are left untouched */
  double *rewards;            /* count */
  uint8_t *terminated;        /* count: 1 = a true end, do not bootstrap */
  uint8_t *truncated;         /* count: 1 = cut off (time limit), bootstrap from V(s') */
} tb_step_out;

/* The harness's services, handed to create(). The struct and `ctx` live as
 * long as the instance. Every function is [during-train] unless tagged. */
typedef struct tb_host {
  uint32_t struct_size;       /* sizeof(tb_host) as the host knows it */
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t num_envs;          /* N */
  uint64_t seed;              /* this plugin's seed, derived from the run's seed on a
                                 stream of its own (the harness's other streams never
                                 meet it): derive every plugin RNG from it */
  void *ctx;                  /* opaque; pass back as the first argument */

  /* Reset copy `env` (or every copy with TB_ALL_ENVS) and write its first
   * observation(s) into obs_out, which holds obs_len doubles: dim for one
   * copy, N * dim for all. Copies reset automatically when an episode ends,
   * so a plugin needs this only to start from fresh episodes. */
  tb_status (*reset)(void *ctx, uint32_t env, double *obs_out, size_t obs_len);

  /* Step copies [first, first + count) with `actions` (count * action.dim
   * doubles, actions_len must equal that) and write into `out`. Each step of
   * each copy spends one unit of the run's budget; when the budget cannot
   * cover all `count` steps nothing is stepped and TB_BUDGET_EXHAUSTED is
   * returned. Non-finite values, or a discrete action that is not an integer
   * in [0, n), give TB_INVALID_ARGUMENT and fail the run; box actions outside
   * their bounds are clipped by the env. Ended episodes reset themselves (see
   * tb_step_out). */
  tb_status (*step)(void *ctx, uint32_t first, uint32_t count, const double *actions,
                    size_t actions_len, const tb_step_out *out);

  /* Save the complete state of copy `env` -- physics, time limit, the env's
   * RNG and the host's episode bookkeeping -- and return an id for it.
   * Snapshots are owned by the host: release them when done. */
  tb_status (*snapshot)(void *ctx, uint32_t env, uint64_t *snapshot_out);

  /* Put copy `env` back into a saved state, exactly: after restore, the same
   * actions give the same observations and rewards, bit for bit. The snapshot
   * stays valid and can be restored again (common random numbers). */
  tb_status (*restore)(void *ctx, uint32_t env, uint64_t snapshot);

  /* Free a snapshot. */
  tb_status (*release_snapshot)(void *ctx, uint64_t snapshot);

  /* Record a scalar metric for the current iteration, e.g.
   * "train/mean_kl". `name` is NUL-terminated UTF-8, copied by the host.
   * Non-finite values are recorded as they are. */
  void (*log_metric)(void *ctx, const char *name, double value);

  /* Env steps left in the run's budget. */
  uint64_t (*steps_remaining)(void *ctx);

  /* Optional host capabilities by string id ("vendor.name/revision"); NULL
   * when absent. [any-thread] */
  const void *(*extension)(void *ctx, const char *id);
} tb_host;

/* --------------------------------------------------------------- instance */

typedef struct tb_instance tb_instance;

/* Allocated by the plugin in create(), freed by the plugin in destroy(). */
struct tb_instance {
  uint32_t struct_size;       /* sizeof(tb_instance) as the plugin knows it */
  void *plugin_data;          /* the plugin's own state; the host never touches it */

  /* Run one iteration of learning: sample through the host, update the
   * policy, log metrics. Return TB_OK when the iteration ended normally,
   * including when the host reported TB_BUDGET_EXHAUSTED. [instance-thread] */
  tb_status (*train_iteration)(const tb_instance *self);

  /* Compute actions for `count` observations (count * observation.dim
   * doubles in obs) into actions_out (capacity actions_cap doubles), setting
   * *actions_written to count * action.dim. `deterministic` != 0 asks for the
   * policy's mode (evaluation); 0 asks for a sample. Needs no host.
   * [instance-thread] */
  tb_status (*act)(const tb_instance *self, const double *obs, size_t obs_len, uint32_t count,
                   int32_t deterministic, double *actions_out, size_t actions_cap,
                   size_t *actions_written);

  /* Serialise the learned parameters into buf (capacity cap) and set *len to
   * the size needed. With cap too small (0 is fine), write nothing and return
   * TB_BUFFER_TOO_SMALL: call again with a buffer of *len bytes.
   * [instance-thread] */
  tb_status (*save)(const tb_instance *self, uint8_t *buf, size_t cap, size_t *len);

  /* Replace the learned parameters with bytes produced by save().
   * [instance-thread] */
  tb_status (*load)(const tb_instance *self, const uint8_t *buf, size_t len);

  /* Copy the text of the most recent failure (UTF-8, NUL-terminated,
   * truncated to cap) into buf and return its full length without the NUL.
   * [instance-thread] */
  size_t (*last_error)(const tb_instance *self, char *buf, size_t cap);

  /* An optional capability by string id ("trustbench.natural-gradient/1"),
   * or NULL when absent. The pointer lives as long as the instance.
   * [instance-thread] */
  const void *(*extension)(const tb_instance *self, const char *id);

  /* Free the instance; `self` is invalid afterwards. [instance-thread] */
  void (*destroy)(const tb_instance *self);
};

/* ------------------------------------------------------------ extensions */

/* Extension "trustbench.natural-gradient/1": the pieces of a natural-gradient
 * step, exposed so the harness can check the plugin's conjugate gradient
 * against an exact dense solve (`harness check cg`). Returned by
 * instance->extension(self, TB_EXT_NATURAL_GRADIENT); lives as long as the
 * instance. All functions are [instance-thread]; `prepare` may use the host
 * exactly as train_iteration does. n is the number of policy parameters. */
#define TB_EXT_NATURAL_GRADIENT "trustbench.natural-gradient/1"

typedef struct tb_ext_natural_gradient {
  uint32_t struct_size;       /* sizeof(tb_ext_natural_gradient) as the plugin knows it */

  /* Number of policy parameters n. */
  uint64_t (*dim)(const tb_instance *self);

  /* Collect one batch with the current policy through the host and fix the
   * quantities below at the current parameters θ: the surrogate gradient g
   * and the Fisher matrix F (the plugin's own subsample and damping
   * included). Does not change the policy. */
  tb_status (*prepare)(const tb_instance *self);

  /* Write g (n doubles) into g_out; g_len must be n. */
  tb_status (*gradient)(const tb_instance *self, double *g_out, size_t g_len);

  /* Write F v into out (both n doubles; len must be n), with damping:
   * (F + λI) v, exactly the operator the plugin's CG solves with. */
  tb_status (*fisher_vector_product)(const tb_instance *self, const double *v, double *out, size_t len);

  /* Run the plugin's own CG on (F + λI) x = g from x_0 = 0 for up to
   * `iterations` iterations, writing iterate x_k (k = 1..) as row k-1 of
   * iterates_out (iterations * n doubles; cap must cover it) and the
   * residual norm ‖g − (F + λI) x_k‖ into residuals_out[k-1]. Sets
   * *iterations_done (CG may stop early on a tiny residual). */
  tb_status (*conjugate_gradient)(const tb_instance *self, uint32_t iterations, double *iterates_out,
                                  size_t iterates_cap, double *residuals_out, uint32_t *iterations_done);
} tb_ext_natural_gradient;

/* ------------------------------------------------------- host extensions */

/* Host extension "trustbench.threads/1": how many threads the plugin's own
 * computation may use in this run (the run's `--threads`), the calling
 * thread included. Returned by host->extension(host->ctx,
 * TB_HOST_EXT_THREADS); lives as long as the host. Absent (NULL) from hosts
 * that predate it: use one thread. A plugin may use fewer. The thread count
 * is not part of a run's config: a plugin must give the same results, bit
 * for bit, whatever number of threads it uses (split work into blocks fixed
 * by the data, never by the thread count, and combine them in block order).
 * Threads the plugin starts must not call the host. */
#define TB_HOST_EXT_THREADS "trustbench.threads/1"

typedef struct tb_threads {
  uint32_t struct_size;       /* sizeof(tb_threads) as the host knows it */
  uint32_t threads;           /* >= 1 */
} tb_threads;

/* Host extension "trustbench.byte-observations/1": observations as the
 * env's bytes instead of doubles, for envs whose observations are bytes
 * (the arcade games' pixel view: grey levels, value = byte / 255).
 *
 * Why: a pixel observation is thousands of values (4 x 50 x 38 = 7,600 for
 * preset=2015, 4 x 84 x 84 = 28,224 by default) per copy per step; as
 * doubles it crosses the ABI, and a plugin that keeps a batch of them
 * stores it, at 8 bytes per value where 1 carries the same information
 * (the paper's 100,000-step batch: 6 GB as doubles, 760 MB as bytes).
 *
 * Returned by host->extension(host->ctx, TB_HOST_EXT_BYTE_OBSERVATIONS)
 * only when the run's observations are bytes; NULL otherwise, and from
 * hosts that predate it: then use host->reset and host->step, which keep
 * working for every env. Lives as long as the host. Its functions are
 * [during-train] and share the world with host->reset and host->step:
 * the two paths may be mixed freely (they count the same budget and
 * record the same episodes).
 *
 * Exact equivalence: byte b of observation value j stands for the double
 * (double)b * TB_BYTE_OBSERVATION_SCALE -- a multiplication by the double
 * nearest 1/255, not a division by 255 (the two differ in the last bit
 * for some b) -- and that product is, bit for bit, the value host->reset
 * and host->step write for the same state. Bytes are laid out as the
 * doubles are (value j of env i at [i * dim + j]).
 *
 * Observation lengths are explicit (obs_len) and checked; rewards and
 * flags hold `count` entries, as with tb_step_out. A wrong length, a NULL
 * buffer, a struct_size smaller than this revision's or an unknown env is
 * a fault that fails the run (TB_INVALID_ARGUMENT), never a write out of
 * bounds. */
#define TB_HOST_EXT_BYTE_OBSERVATIONS "trustbench.byte-observations/1"
#define TB_BYTE_OBSERVATION_SCALE (1.0 / 255.0)

/* Where a byte step writes; as tb_step_out, with byte observations. */
typedef struct tb_byte_step_out {
  uint32_t struct_size;       /* sizeof(tb_byte_step_out) as the plugin knows it */
  size_t obs_len;             /* bytes in observations (and in final_observations
                                 when not NULL): must be count * observation.dim */
  uint8_t *observations;      /* as tb_step_out.observations, in bytes */
  uint8_t *final_observations;/* NULL, or as tb_step_out.final_observations, in bytes */
  double *rewards;            /* count */
  uint8_t *terminated;        /* count */
  uint8_t *truncated;         /* count */
} tb_byte_step_out;

typedef struct tb_byte_observations {
  uint32_t struct_size;       /* sizeof(tb_byte_observations) as the host knows it */

  /* host->reset, writing obs_len bytes (dim for one copy, N * dim for
   * TB_ALL_ENVS) into obs_out. */
  tb_status (*reset)(void *ctx, uint32_t env, uint8_t *obs_out, size_t obs_len);

  /* host->step (same actions, budget, autoreset and statuses), writing
   * byte observations into `out`. */
  tb_status (*step)(void *ctx, uint32_t first, uint32_t count, const double *actions,
                    size_t actions_len, const tb_byte_step_out *out);
} tb_byte_observations;

/* ------------------------------------------------------ algorithm factory */

typedef struct tb_algorithm_descriptor {
  uint32_t struct_size;       /* sizeof(tb_algorithm_descriptor) as the plugin knows it */
  uint32_t observation_kinds; /* bit mask of TB_SPACE_* it accepts */
  uint32_t action_kinds;      /* bit mask of TB_SPACE_* it accepts */
  const char *id;             /* short stable id used on the command line: "trpo" */
  const char *name;           /* human name: "Trust Region Policy Optimization" */
  const char *version;        /* the algorithm's own version: "1.0.0" */
  const char *description;    /* one line */
  const char *default_config_json; /* a JSON object: every config key with its default */
} tb_algorithm_descriptor;

/* The library's static descriptor. It and everything it points to live as
 * long as the library is loaded. */
typedef struct tb_plugin_entry {
  uint32_t struct_size;       /* sizeof(tb_plugin_entry) as the plugin knows it */
  uint32_t abi_major;         /* TB_ABI_MAJOR the plugin was built against */
  uint32_t abi_minor;         /* TB_ABI_MINOR the plugin was built against */
  const char *library_name;   /* e.g. "trustbench-builtin" */
  const char *library_version;

  /* Number of algorithms this library offers. [any-thread] */
  uint32_t (*algorithm_count)(void);

  /* Descriptor of algorithm i (0 <= i < count), static; NULL when out of
   * range. [any-thread] */
  const tb_algorithm_descriptor *(*algorithm)(uint32_t index);

  /* Create an instance of algorithm `algorithm_id` with the given config (a
   * JSON object; keys missing from it take their defaults; unknown keys and
   * out-of-range values are errors that name the key and the valid range),
   * spaces and host. On success store the instance in *out and return TB_OK;
   * on failure copy the reason into err (capacity err_cap, NUL-terminated,
   * truncated) and return an error status. The host and spaces outlive the
   * instance. [any-thread] */
  tb_status (*create)(const char *algorithm_id, const char *config_json, const tb_spaces *spaces,
                      const tb_host *host, const tb_instance **out, char *err, size_t err_cap);
} tb_plugin_entry;

/* The one exported symbol (a function, since dlsym is only guaranteed for
 * functions). Returns the same static pointer on every call. [any-thread] */
typedef const tb_plugin_entry *(*tb_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* TRUSTBENCH_PLUGIN_H */
