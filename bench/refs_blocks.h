/* refs_blocks.h — the standard library's social blocks written by hand,
 * shared by the baselines of the stdlib circuits (refs_std.c) and of the
 * examples that instantiate them (refs_examples.c): a C programmer's
 * functions, each taking its params and state and a `commit` flag (the
 * state advances only on a tick whose inputs were valid). */
#ifndef BENCH_REFS_BLOCKS_H
#define BENCH_REFS_BLOCKS_H

#include "refs_common.h"

typedef unsigned char u8;
static const double DT = 0.01; /* every module here ticks every 10 ms */

static const double FACE[4] = { 1, 0, 1, 0.7 };
static const double GAIT[4] = { 0.3, 1, 0.8, 0 };
static const double VOICE[4] = { 0.2, 1, 0.8, 0.1 };
static const double MATCH_FLOOR = 0.7;

/* like(x, T): the template match of the heuristics (shape x contrast),
 * with |T| computed once (the compiler folds it). The source takes dot and
 * norms over all 8 vision channels with the other 4 masked to 0 (x * 0 is
 * kept: it is not exactly 0 for inf or NaN). */
static inline __attribute__((always_inline)) double like(double d, double n2, double tn)
{
    double n = sqrt(n2);
    return clamp_((d / max_(n * tn, 1e-9) - MATCH_FLOOR) / (1 - MATCH_FLOOR), 0, 1) *
           min_(1, n / tn);
}

static double FACE8[8], GAIT8[8], FACE_N, GAIT_N, VOICE_N;
static inline void templates_init(void)
{
    for (int k = 0; k < 4; k++) {
        FACE8[k] = FACE[k];
        GAIT8[4 + k] = GAIT[k];
    }
    FACE_N = sqrt(dot8(FACE8, FACE8));
    GAIT_N = sqrt(dot8(GAIT8, GAIT8));
    VOICE_N = sqrt(dot4(VOICE, VOICE));
}

/* The reflex: K = D + R ticks; `since` saturates at K. */
typedef struct { double since, held; u8 prev; } reflex_st;

static inline void reflex_init(reflex_st *r, double K)
{
    r->since = K;
    r->held = 0;
    r->prev = 0;
}

/* One tick: on, onset and strength; the next state goes to *next. */
static inline __attribute__((always_inline)) void reflex_tick(const reflex_st *r, int c, double strength_now, double D, double K,
                        int *on, int *fire, double *strength, reflex_st *next)
{
    int onset = c && !r->prev;
    double kp = r->since >= K ? K : r->since + 1;
    *fire = onset && kp >= K;
    double kn = *fire ? 0 : kp;
    *on = kn < D;
    double sv = *fire ? strength_now : r->held;
    *strength = *on ? sv : 0;
    next->prev = (u8)(c != 0);
    next->since = kn;
    next->held = sv;
}

typedef struct {
    double peripheral_gain, eye_gain, threshold;
    reflex_st orienting;
} sa_st;
typedef struct {
    double vision[8], audio[4], touch;
    u8 eye_contact;
    double predicted;
} sa_in;
typedef struct { double cue; u8 attending; double level; u8 onset; double innate; } sa_out;
static inline void sa_init(void *sv)
{
    sa_st *s = sv;
    memset(s, 0, sizeof *s);
    s->peripheral_gain = 1;
    s->eye_gain = 1;
    s->threshold = 0.5;
    reflex_init(&s->orienting, 50);
    templates_init();
}

/* The social attention reflex with its params; shared with the examples. */
typedef struct { double cue, level, innate; int attending, onset; } sa_result;
static inline int sa_valid(const sa_in *in)
{
    int ok = 1;
    for (int k = 0; k < 8; k++)
        ok &= in_(in->vision[k], 0, 1);
    for (int k = 0; k < 4; k++)
        ok &= in_(in->audio[k], 0, 1);
    return ok && in_(in->touch, 0, 1) && in_(in->predicted, 0, 4);
}

static inline __attribute__((always_inline)) sa_result sa_tick(sa_st *s, const double *vision, const double *audio, double touch,
                         int eye_contact, double predicted, int commit)
{
    static const double FORM_CH[8] = { 1, 1, 1, 1, 0, 0, 0, 0 };
    static const double MOTION_CH[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };
    double form[8], motion[8];
    for (int k = 0; k < 8; k++) {
        form[k] = vision[k] * FORM_CH[k];
        motion[k] = vision[k] * MOTION_CH[k];
    }
    double face = like(dot8(form, FACE8), dot8(form, form), FACE_N);
    double gait = like(dot8(motion, GAIT8), dot8(motion, motion), GAIT_N);
    double voice = like(dot4(audio, VOICE), dot4(audio, audio), VOICE_N);
    double peripheral = 1 - (1 - face) * (1 - voice) * (1 - gait) * (1 - touch);
    double eye = eye_contact ? 1 : 0;
    double sensed = s->peripheral_gain * peripheral + s->eye_gain * eye;
    double combined = sensed + predicted;
    sa_result r = { .cue = combined, .innate = sensed };
    reflex_st next;
    reflex_tick(&s->orienting, combined > s->threshold, combined, 30, 50, &r.attending,
                &r.onset, &r.level, &next);
    if (commit)
        s->orienting = next;
    return r;
}

/* A predictor with an 8-wide context, rule nlms, no squash. */
typedef struct { double w[8], b; } pred8;

static inline __attribute__((always_inline)) double pred8_out(const pred8 *p, const double *x)
{
    return dot8(p->w, x) + p->b;
}

/* The update with error e from context xd (the one of D ticks ago): whole
 * or not at all. */
static inline __attribute__((always_inline)) void pred8_learn(pred8 *p, const double *xd, double rate, double e, int valid)
{
    double g = rate * e / (1 + dot8(xd, xd));
    double nb = p->b + g, nw[8];
    int ok = valid && nb - nb == 0;
    for (int k = 0; k < 8; k++) {
        nw[k] = p->w[k] + g * xd[k];
        ok = ok && nw[k] - nw[k] == 0;
    }
    if (ok) {
        for (int k = 0; k < 8; k++)
            p->w[k] = nw[k];
        p->b = nb;
    }
}


#endif
