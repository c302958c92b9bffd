/*
 * pointmass_env.c -- a trustbench env provider in plain C99: a point mass
 * on a plane, pushed towards the origin. It shows the whole env-provider
 * ABI (trustbench_env.h) with nothing else in the way, extensions included:
 * RGB rendering and exact snapshot/restore.
 *
 * Build:  cc -std=c99 -Wall -Wextra -pedantic -O2 -shared -fPIC \
 *            -I plugins/include plugins/c/pointmass_env.c -o libpointmass_env.so -lm
 * Use:    harness run --plugin ./libpointmass_env.so --algo trpo --env PointMass-v0
 *
 * PointMass-v0
 *   Observation  box(4): position x, y in [-2, 2], velocity vx, vy.
 *   Action       box(2) in [-1, 1]: the force on each axis (clipped).
 *   Reward       -|p| - 0.01 |u|^2 per step.
 *   Start state  position uniform in [-1, 1]^2, at rest.
 *   Episode end  terminated when the mass rests at the origin (|p| < 0.05,
 *                |v| < 0.1) or leaves the square [-2, 2]^2; truncated
 *                after max_steps steps.
 *   Options      mass (default 1), max_steps (default 200).
 */
#include "trustbench_env.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DT 0.05
#define FRICTION 0.1
#define OBS_DIM 4u
#define ACT_DIM 2u

/* ------------------------------------------------------------------ RNG */

/* SplitMix64: one 64-bit word of state, so a copy's state is plain data. */
static uint64_t next_u64(uint64_t *s) {
  uint64_t x = (*s += 0x9E3779B97F4A7C15ull);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static double uniform(uint64_t *s, double lo, double hi) {
  return lo + (hi - lo) * ((double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0));
}

/* ----------------------------------------------------------------- copy */

/* Everything that decides a copy's future: the snapshot is these bytes. */
typedef struct copy_state {
  double p[2], v[2];
  uint64_t t;
  uint64_t rng;
} copy_state;

typedef struct batch {
  tb_env_batch vtable; /* first, so a tb_env_batch* is a batch* */
  double mass;
  uint64_t max_steps;
  copy_state *copies;
  double low[OBS_DIM], high[OBS_DIM], act_low[ACT_DIM], act_high[ACT_DIM];
  char error[256];
} batch;

static void observe(const copy_state *c, double *obs) {
  obs[0] = c->p[0];
  obs[1] = c->p[1];
  obs[2] = c->v[0];
  obs[3] = c->v[1];
}

static void start(copy_state *c) {
  c->p[0] = uniform(&c->rng, -1.0, 1.0);
  c->p[1] = uniform(&c->rng, -1.0, 1.0);
  c->v[0] = c->v[1] = 0.0;
  c->t = 0;
}

static double clip(double x) { return x < -1.0 ? -1.0 : (x > 1.0 ? 1.0 : x); }

static tb_status fail(batch *b, tb_status status, const char *text) {
  snprintf(b->error, sizeof b->error, "%s", text);
  return status;
}

static int in_range(const batch *b, uint32_t first, uint32_t count) {
  return count > 0 && first < b->vtable.num_envs && count <= b->vtable.num_envs - first;
}

static tb_status pm_reset(const tb_env_batch *self, uint32_t first, uint32_t count, const uint64_t *seeds,
                          double *obs_out, size_t obs_len) {
  batch *b = (batch *)self;
  uint32_t k;
  if (!in_range(b, first, count) || obs_out == NULL || obs_len != (size_t)count * OBS_DIM)
    return fail(b, TB_INVALID_ARGUMENT, "reset: bad copy range or observation length");
  for (k = 0; k < count; k++) {
    copy_state *c = &b->copies[first + k];
    if (seeds != NULL) c->rng = seeds[k];
    start(c);
    observe(c, obs_out + (size_t)k * OBS_DIM);
  }
  return TB_OK;
}

static tb_status pm_step(const tb_env_batch *self, uint32_t first, uint32_t count, const double *actions,
                         size_t actions_len, const tb_step_out *out) {
  batch *b = (batch *)self;
  uint32_t k;
  if (!in_range(b, first, count) || actions == NULL || actions_len != (size_t)count * ACT_DIM || out == NULL ||
      out->struct_size < sizeof(tb_step_out))
    return fail(b, TB_INVALID_ARGUMENT, "step: bad copy range, action length or output struct");
  for (k = 0; k < count; k++) {
    copy_state *c = &b->copies[first + k];
    double u[2], speed, dist, reward;
    int i, terminated, truncated;
    double *obs = out->observations + (size_t)k * OBS_DIM;
    for (i = 0; i < 2; i++) {
      u[i] = clip(actions[(size_t)k * ACT_DIM + (size_t)i]);
      c->v[i] = (c->v[i] + DT * u[i] / b->mass) * (1.0 - FRICTION);
      c->p[i] += DT * c->v[i];
    }
    c->t += 1;
    dist = sqrt(c->p[0] * c->p[0] + c->p[1] * c->p[1]);
    speed = sqrt(c->v[0] * c->v[0] + c->v[1] * c->v[1]);
    reward = -dist - 0.01 * (u[0] * u[0] + u[1] * u[1]);
    terminated = (dist < 0.05 && speed < 0.1) || fabs(c->p[0]) > 2.0 || fabs(c->p[1]) > 2.0;
    truncated = !terminated && c->t >= b->max_steps;
#ifdef PM_AFTER_STEP
    PM_AFTER_STEP(c, reward);
#endif
    out->rewards[k] = reward;
    out->terminated[k] = (uint8_t)terminated;
    out->truncated[k] = (uint8_t)truncated;
    observe(c, obs);
    if (terminated || truncated) {
      /* The tb_step_out contract: keep the last observation, start anew. */
      if (out->final_observations != NULL) observe(c, out->final_observations + (size_t)k * OBS_DIM);
      start(c);
      observe(c, obs);
    }
  }
  return TB_OK;
}

static size_t pm_last_error(const tb_env_batch *self, char *buf, size_t cap) {
  const batch *b = (const batch *)self;
  size_t n = strlen(b->error);
  if (buf != NULL && cap > 0) {
    size_t m = n < cap - 1 ? n : cap - 1;
    memcpy(buf, b->error, m);
    buf[m] = '\0';
  }
  return n;
}

/* ----------------------------------------------------------- extensions */

static tb_status pm_render(const tb_env_batch *self, uint32_t env, uint32_t width, uint32_t height,
                           uint8_t *rgb_out, size_t len) {
  batch *b = (batch *)self;
  const copy_state *c;
  uint32_t x, y;
  if (env >= self->num_envs || rgb_out == NULL || len != (size_t)width * height * 3u)
    return fail(b, TB_INVALID_ARGUMENT, "render: bad copy or buffer length");
  c = &b->copies[env];
  for (y = 0; y < height; y++) {
    for (x = 0; x < width; x++) {
      /* Pixel centre in world coordinates: the square [-2, 2]^2, y up. */
      double wx = ((x + 0.5) / width) * 4.0 - 2.0, wy = 2.0 - ((y + 0.5) / height) * 4.0;
      double dm = hypot(wx - c->p[0], wy - c->p[1]), dg = hypot(wx, wy);
      uint8_t *px = rgb_out + ((size_t)y * width + x) * 3u;
      px[0] = px[1] = px[2] = 245;
      if (dg < 0.1) {
        px[0] = 60, px[1] = 170, px[2] = 80;
      }
      if (dm < 0.12) {
        px[0] = 200, px[1] = 40, px[2] = 40;
      }
    }
  }
  return TB_OK;
}

static tb_status pm_save(const tb_env_batch *self, uint32_t env, uint8_t *buf, size_t cap, size_t *len) {
  batch *b = (batch *)self;
  if (env >= self->num_envs || len == NULL) return fail(b, TB_INVALID_ARGUMENT, "snapshot save: bad copy");
  *len = sizeof(copy_state);
  if (buf == NULL || cap < sizeof(copy_state)) return TB_BUFFER_TOO_SMALL;
  memcpy(buf, &b->copies[env], sizeof(copy_state));
  return TB_OK;
}

static tb_status pm_load(const tb_env_batch *self, uint32_t env, const uint8_t *buf, size_t len) {
  batch *b = (batch *)self;
  if (env >= self->num_envs || buf == NULL || len != sizeof(copy_state))
    return fail(b, TB_INVALID_ARGUMENT, "snapshot load: bad copy or state length");
  memcpy(&b->copies[env], buf, sizeof(copy_state));
  return TB_OK;
}

static const tb_env_render_rgb render_ext = {sizeof(tb_env_render_rgb), pm_render};
static const tb_env_snapshot snapshot_ext = {sizeof(tb_env_snapshot), pm_save, pm_load};

static const void *pm_extension(const tb_env_batch *self, const char *id) {
  (void)self;
  if (id == NULL) return NULL;
  if (strcmp(id, TB_ENV_EXT_RENDER_RGB) == 0) return &render_ext;
  if (strcmp(id, TB_ENV_EXT_SNAPSHOT) == 0) return &snapshot_ext;
  return NULL;
}

static void pm_destroy(const tb_env_batch *self) {
  batch *b = (batch *)self;
  free(b->copies);
  free(b);
}

/* -------------------------------------------------------------- options */

/* The string value of "key" in a flat JSON object of strings (what the
 * host passes), copied into out; 0 when absent. Enough for this example:
 * the host writes the object itself, values without escapes. */
static int option(const char *json, const char *key, char *out, size_t cap) {
  char pattern[64];
  const char *at, *end;
  size_t n;
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  at = strstr(json, pattern);
  if (at == NULL) return 0;
  at += strlen(pattern);
  end = strchr(at, '"');
  if (end == NULL) return 0;
  n = (size_t)(end - at) < cap - 1 ? (size_t)(end - at) : cap - 1;
  memcpy(out, at, n);
  out[n] = '\0';
  return 1;
}

static tb_status refuse(char *err, size_t err_cap, const char *text) {
  if (err != NULL && err_cap > 0) snprintf(err, err_cap, "%s", text);
  return TB_INVALID_ARGUMENT;
}

/* ---------------------------------------------------------------- entry */

#define ID "PointMass-v0"

static const tb_env_descriptor descriptor = {
    sizeof(tb_env_descriptor),
    0,
    ID,
    "A point mass on a plane pushed to the origin (C example provider)",
    "[{\"key\":\"mass\",\"default\":\"1\",\"valid\":\"a number in (0, 100]\",\"help\":\"kg\"},"
    "{\"key\":\"max_steps\",\"default\":\"200\",\"valid\":\"an integer in [1, 100000]\","
    "\"help\":\"steps before an episode is truncated\"}]",
    200,
    100000,
};

static uint32_t pm_env_count(void) { return 1; }

static const tb_env_descriptor *pm_env(uint32_t index) { return index == 0 ? &descriptor : NULL; }

static tb_status pm_create(const char *env_id, const char *options_json, uint32_t num_envs, const uint64_t *seeds,
                           const tb_env_batch **out, char *err, size_t err_cap) {
  char value[64], *end;
  double mass = 1.0, steps = 200.0;
  batch *b;
  uint32_t i;
  if (env_id == NULL || strcmp(env_id, ID) != 0) return refuse(err, err_cap, "unknown env id (valid: " ID ")");
  if (options_json == NULL || out == NULL || seeds == NULL || num_envs == 0)
    return refuse(err, err_cap, "create: NULL argument or no copies");
  if (option(options_json, "mass", value, sizeof value)) {
    mass = strtod(value, &end);
    if (*end != '\0' || !(mass > 0.0 && mass <= 100.0))
      return refuse(err, err_cap, "option 'mass' is not a number in (0, 100]");
  }
  if (option(options_json, "max_steps", value, sizeof value)) {
    steps = strtod(value, &end);
    if (*end != '\0' || !(steps >= 1.0 && steps <= 100000.0) || steps != floor(steps))
      return refuse(err, err_cap, "option 'max_steps' is not an integer in [1, 100000]");
  }
  b = calloc(1, sizeof *b);
  if (b == NULL) return refuse(err, err_cap, "out of memory");
  b->copies = calloc(num_envs, sizeof *b->copies);
  if (b->copies == NULL) {
    free(b);
    return refuse(err, err_cap, "out of memory");
  }
  b->mass = mass;
  b->max_steps = (uint64_t)steps;
  for (i = 0; i < num_envs; i++) b->copies[i].rng = seeds[i];
  for (i = 0; i < OBS_DIM; i++) {
    b->low[i] = i < 2 ? -2.0 : -HUGE_VAL;
    b->high[i] = i < 2 ? 2.0 : HUGE_VAL;
  }
  for (i = 0; i < ACT_DIM; i++) b->act_low[i] = -1.0, b->act_high[i] = 1.0;
  b->vtable.struct_size = sizeof(tb_env_batch);
  b->vtable.num_envs = num_envs;
  b->vtable.provider_data = NULL;
  b->vtable.observation.kind = TB_SPACE_BOX;
  b->vtable.observation.rank = 1;
  b->vtable.observation.shape[0] = OBS_DIM;
  b->vtable.observation.dim = OBS_DIM;
  b->vtable.observation.low = b->low;
  b->vtable.observation.high = b->high;
  b->vtable.action.kind = TB_SPACE_BOX;
  b->vtable.action.rank = 1;
  b->vtable.action.shape[0] = ACT_DIM;
  b->vtable.action.dim = ACT_DIM;
  b->vtable.action.low = b->act_low;
  b->vtable.action.high = b->act_high;
  b->vtable.reset = pm_reset;
  b->vtable.step = pm_step;
  b->vtable.last_error = pm_last_error;
  b->vtable.extension = pm_extension;
  b->vtable.destroy = pm_destroy;
  *out = &b->vtable;
  return TB_OK;
}

static const tb_env_provider entry = {
    sizeof(tb_env_provider), TB_ENV_ABI_MAJOR, TB_ENV_ABI_MINOR, "trustbench-c-pointmass", "1.0.0",
    pm_env_count,            pm_env,           pm_create,
};

const tb_env_provider *trustbench_env_provider_v1(void) { return &entry; }
