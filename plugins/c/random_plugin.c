/*
 * random_plugin.c -- a trustbench algorithm plugin in plain C99: the
 * uniform-random policy. It shows the whole ABI with nothing else in the way.
 *
 * Build:  cc -std=c99 -Wall -Wextra -pedantic -O2 -shared -fPIC \
 *            -I plugins/include plugins/c/random_plugin.c -o librandom_c.so
 * Use:    harness run --plugin ./librandom_c.so --algo c-random --env cartpole
 */
#include "trustbench_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ RNG */

/* xorshift64*: tiny and deterministic; seeded by a SplitMix64 step so that
 * seed 0 is fine. */
static uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static uint64_t next_u64(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1Dull;
}

static double uniform01(uint64_t *s) { return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0); }

/* ------------------------------------------------------------- instance */

typedef struct state {
  tb_instance vtable;        /* first, so a tb_instance* is a state* */
  const tb_host *host;
  tb_space action;           /* copy; bounds owned by the host (live as long as us) */
  uint64_t obs_dim;
  uint64_t steps_per_iteration;
  uint64_t rng;
  double *actions, *obs, *rewards;
  uint8_t *terminated, *truncated;
  char error[256];
} state;

static void sample(state *st, uint32_t count, double *out) {
  uint32_t i;
  uint64_t j, d = st->action.dim;
  for (i = 0; i < count; i++) {
    for (j = 0; j < d; j++) {
      if (st->action.kind == TB_SPACE_DISCRETE) {
        out[i] = (double)(next_u64(&st->rng) % st->action.n);
      } else {
        double lo = st->action.low[j], hi = st->action.high[j];
        if (!(lo > -1e300)) lo = -1.0;
        if (!(hi < 1e300)) hi = 1.0;
        out[i * d + j] = lo + (hi - lo) * uniform01(&st->rng);
      }
    }
  }
}

static tb_status train_iteration(const tb_instance *self) {
  state *st = (state *)self;
  const tb_host *h = st->host;
  tb_step_out out;
  uint64_t done = 0;
  double reward_sum = 0.0;
  memset(&out, 0, sizeof out);
  out.struct_size = sizeof out;
  out.observations = st->obs;
  out.rewards = st->rewards;
  out.terminated = st->terminated;
  out.truncated = st->truncated;
  while (done < st->steps_per_iteration) {
    uint32_t i;
    tb_status s;
    sample(st, h->num_envs, st->actions);
    s = h->step(h->ctx, 0, h->num_envs, st->actions, (size_t)(h->num_envs * st->action.dim), &out);
    if (s == TB_BUDGET_EXHAUSTED) break;
    if (s != TB_OK) {
      snprintf(st->error, sizeof st->error, "host step failed with status %d", (int)s);
      return TB_ERROR;
    }
    for (i = 0; i < h->num_envs; i++) reward_sum += st->rewards[i];
    done += h->num_envs;
  }
  if (done > 0) h->log_metric(h->ctx, "train/mean_reward_per_step", reward_sum / (double)done);
  return TB_OK;
}

static tb_status act(const tb_instance *self, const double *obs, size_t obs_len, uint32_t count,
                     int32_t deterministic, double *actions_out, size_t actions_cap,
                     size_t *actions_written) {
  state *st = (state *)self;
  size_t needed = (size_t)count * (size_t)st->action.dim;
  (void)obs;
  (void)deterministic; /* a uniform policy has no mode */
  if (obs_len != (size_t)count * (size_t)st->obs_dim) {
    snprintf(st->error, sizeof st->error, "act: %lu observation values for %lu observations",
             (unsigned long)obs_len, (unsigned long)count);
    return TB_INVALID_ARGUMENT;
  }
  if (actions_written) *actions_written = needed;
  if (actions_cap < needed) return TB_BUFFER_TOO_SMALL;
  sample(st, count, actions_out);
  return TB_OK;
}

static tb_status save(const tb_instance *self, uint8_t *buf, size_t cap, size_t *len) {
  state *st = (state *)self;
  if (len) *len = sizeof st->rng;
  if (!buf || cap < sizeof st->rng) return TB_BUFFER_TOO_SMALL;
  memcpy(buf, &st->rng, sizeof st->rng);
  return TB_OK;
}

static tb_status load(const tb_instance *self, const uint8_t *buf, size_t len) {
  state *st = (state *)self;
  if (!buf || len != sizeof st->rng) {
    snprintf(st->error, sizeof st->error, "load: expected %lu bytes, got %lu",
             (unsigned long)sizeof st->rng, (unsigned long)len);
    return TB_INVALID_ARGUMENT;
  }
  memcpy(&st->rng, buf, sizeof st->rng);
  return TB_OK;
}

static size_t copy_text(const char *text, char *buf, size_t cap) {
  size_t n = strlen(text);
  if (buf && cap > 0) {
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(buf, text, k);
    buf[k] = '\0';
  }
  return n;
}

static size_t last_error(const tb_instance *self, char *buf, size_t cap) {
  return copy_text(((const state *)self)->error, buf, cap);
}

static const void *extension(const tb_instance *self, const char *id) {
  (void)self;
  (void)id;
  return NULL; /* no optional capabilities */
}

static void destroy(const tb_instance *self) {
  state *st = (state *)self;
  free(st->actions);
  free(st->obs);
  free(st->rewards);
  free(st->terminated);
  free(st->truncated);
  free(st);
}

/* -------------------------------------------------------------- factory */

#define DEFAULT_CONFIG "{\"steps_per_iteration\": 2048}"

static const tb_algorithm_descriptor descriptor = {
    sizeof(tb_algorithm_descriptor),
    TB_SPACE_BOX | TB_SPACE_DISCRETE,
    TB_SPACE_BOX | TB_SPACE_DISCRETE,
    "c-random",
    "Uniform random policy (C example plugin)",
    "1.0.0",
    "Actions drawn uniformly from the action space; written in plain C99",
    DEFAULT_CONFIG,
};

static uint32_t algorithm_count(void) { return 1; }

static const tb_algorithm_descriptor *algorithm(uint32_t index) { return index == 0 ? &descriptor : NULL; }

/* Read "steps_per_iteration" from the config object; a real plugin would use
 * a JSON library. Returns 0 when the value is missing, 1 when read, -1 when
 * malformed. */
static int read_steps(const char *json, double *value) {
  const char *p = json ? strstr(json, "\"steps_per_iteration\"") : NULL;
  char *end;
  if (!p) return 0;
  p = strchr(p, ':');
  if (!p) return -1;
  *value = strtod(p + 1, &end);
  return end == p + 1 ? -1 : 1;
}

/* Refuse any key but "steps_per_iteration", naming it: every key of the
 * flat config object is a string directly followed (after blanks) by ':'.
 * Writes the error into err and returns 0 on an unknown key. */
static int known_keys_only(const char *json, char *err, size_t err_cap) {
  const char *p = json;
  while (p && (p = strchr(p, '"')) != NULL) {
    const char *start = ++p, *q;
    while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
    if (!*p) break;
    q = p + 1;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
    if (*q == ':' && !((size_t)(p - start) == strlen("steps_per_iteration") &&
                       strncmp(start, "steps_per_iteration", (size_t)(p - start)) == 0)) {
      if (err && err_cap > 0)
        snprintf(err, err_cap, "unknown config key '%.*s'; valid keys: steps_per_iteration",
                 (int)(p - start), start);
      return 0;
    }
    p++;
  }
  return 1;
}

static tb_status create(const char *algorithm_id, const char *config_json, const tb_spaces *spaces,
                        const tb_host *host, const tb_instance **out, char *err, size_t err_cap) {
  state *st;
  double steps = 2048.0;
  size_t n;
  if (!algorithm_id || strcmp(algorithm_id, descriptor.id) != 0) {
    copy_text("this library only offers 'c-random'", err, err_cap);
    return TB_INVALID_ARGUMENT;
  }
  if (!spaces || !host || !out || host->abi_major != TB_ABI_MAJOR || host->struct_size < sizeof(tb_host)) {
    copy_text("incompatible or missing host", err, err_cap);
    return TB_INVALID_ARGUMENT;
  }
  if (!known_keys_only(config_json, err, err_cap)) return TB_INVALID_ARGUMENT;
  if (read_steps(config_json, &steps) < 0 || !(steps >= 1.0 && steps <= 1e12)) {
    copy_text("config key 'steps_per_iteration' is out of range (valid: 1 ..= 1e12)", err, err_cap);
    return TB_INVALID_ARGUMENT;
  }
  st = calloc(1, sizeof *st);
  if (!st) {
    copy_text("out of memory", err, err_cap);
    return TB_ERROR;
  }
  n = host->num_envs;
  st->vtable.struct_size = sizeof(tb_instance);
  st->vtable.plugin_data = st;
  st->vtable.train_iteration = train_iteration;
  st->vtable.act = act;
  st->vtable.save = save;
  st->vtable.load = load;
  st->vtable.last_error = last_error;
  st->vtable.extension = extension;
  st->vtable.destroy = destroy;
  st->host = host;
  st->action = spaces->action;
  st->obs_dim = spaces->observation.dim;
  st->steps_per_iteration = (uint64_t)steps;
  st->rng = splitmix(host->seed ^ 0xC0FFEEull);
  st->actions = calloc(n * spaces->action.dim, sizeof(double));
  st->obs = calloc(n * spaces->observation.dim, sizeof(double));
  st->rewards = calloc(n, sizeof(double));
  st->terminated = calloc(n, 1);
  st->truncated = calloc(n, 1);
  if (!st->actions || !st->obs || !st->rewards || !st->terminated || !st->truncated) {
    destroy(&st->vtable);
    copy_text("out of memory", err, err_cap);
    return TB_ERROR;
  }
  *out = &st->vtable;
  return TB_OK;
}

static const tb_plugin_entry entry = {
    sizeof(tb_plugin_entry), TB_ABI_MAJOR, TB_ABI_MINOR, "trustbench-c-example", "1.0.0",
    algorithm_count,         algorithm,    create,
};

#if defined(_WIN32)
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
const tb_plugin_entry *trustbench_plugin_entry_v1(void) {
  return &entry;
}
