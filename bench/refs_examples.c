/* refs_examples.c — the example circuits (examples/NN_*) written by hand in
 * C: the baselines of the step benchmark (see refs.h for the rules). */
#include "refs.h"
#include "refs_blocks.h"

/* ---- examples/social_attention ------------------------------------------ */

typedef struct {
    double threshold, face_weight, voice_weight;
    double pre_since_end, pre_remaining, pre_arousal;
    u8 pre_trigger, pre_attending;
} sat_st;
typedef struct { double face, voice; u8 eye_contact; } sat_in;
typedef struct { double conspecific; u8 attending; double arousal; } sat_out;

static void sat_init(void *sv)
{
    sat_st *s = sv;
    memset(s, 0, sizeof *s);
    s->threshold = 0.6;
    s->face_weight = 0.7;
    s->voice_weight = 0.4;
    s->pre_since_end = 1000;
}

static int sat_step(void *sv, const void *iv, void *ov)
{
    sat_st *s = sv;
    const sat_in *in = iv;
    sat_out *out = ov;
    const double dt = 0.02;
    double conspecific = s->face_weight * in->face + s->voice_weight * in->voice +
                         (in->eye_contact ? 0.5 : 0.0);
    int trigger = conspecific > s->threshold;
    int onset = trigger && !s->pre_trigger;
    int rested = !s->pre_attending && s->pre_since_end * dt >= 0.2;
    int fire = onset && rested;
    double remaining = fire ? 0.3 / dt : s->pre_remaining > 1 ? s->pre_remaining - 1 : 0.0;
    int attending = remaining > 0;
    double since_end = attending ? 0.0 : s->pre_since_end + 1;
    double decay = dt / 0.2;
    double arousal = s->pre_arousal * (1 - decay) + (fire ? conspecific : 0.0);
    out->conspecific = conspecific;
    out->attending = (u8)attending;
    out->arousal = arousal;
    if (!finite_(in->face) || !finite_(in->voice))
        return 1;
    s->pre_trigger = (u8)trigger;
    s->pre_attending = (u8)attending;
    s->pre_since_end = since_end;
    s->pre_remaining = remaining;
    s->pre_arousal = arousal;
    return 0;
}


/* ---- blocks the examples compose ----------------------------------------- */

/* A constant the compiler folds with the C library (alpha(200 ms)): made at
 * run time by the same call, never by gcc's correctly rounded folder. */
static double alpha_const(double tau)
{
    volatile double t = tau;
    return alpha_(DT, t);
}

static inline __attribute__((always_inline)) double dotn(const double *a, const double *b, int n)
{
    double p[8];
    for (int i = 0; i < n; i++)
        p[i] = a[i] * b[i];
    return sum_fixed(p, n);
}

/* A predictor (rule nlms, no squash) with an n-wide context (n <= 8) and a
 * delay of D ticks (D <= 20): rings of the last D contexts and outputs.
 * Always inlined, so that gcc specialises it for each constant n and D as
 * a C programmer writing one circuit would. */
typedef struct {
    double w[8], b, ctx[20][8], out[20];
    int pos, age;
} pred;

typedef struct { double y, target, e; } pred_vals;

/* The output, the target and the error; defer: the target is the output. */
static inline __attribute__((always_inline)) pred_vals pred_tick(const pred *p, const double *x, int n, int D, double sup, int defer)
{
    pred_vals v;
    v.y = dotn(p->w, x, n) + p->b;
    v.target = defer ? v.y : sup;
    int valid = D == 0 || p->age >= D;
    double yd = D == 0 ? v.y : p->out[p->pos];
    v.e = valid ? v.target - yd : 0;
    return v;
}

/* The end of the tick: learning, whole or not at all, and the rings. */
static inline __attribute__((always_inline)) void pred_commit(pred *p, const double *x, int n, int D, const pred_vals *v, double rate)
{
    int valid = D == 0 || p->age >= D;
    const double *xd = D == 0 ? x : p->ctx[p->pos];
    double g = rate * v->e / (1 + dotn(xd, xd, n));
    double nb = p->b + g, nw[8];
    int ok = valid && nb - nb == 0;
    for (int k = 0; k < n; k++) {
        nw[k] = p->w[k] + g * xd[k];
        ok = ok && nw[k] - nw[k] == 0;
    }
    if (ok) {
        for (int k = 0; k < n; k++)
            p->w[k] = nw[k];
        p->b = nb;
    }
    if (D > 0) {
        for (int k = 0; k < n; k++)
            p->ctx[p->pos][k] = x[k];
        p->out[p->pos] = v->y;
        p->pos = p->pos + 1 >= D ? 0 : p->pos + 1;
        if (!valid)
            p->age++;
    }
}

/* std.social.phasic_arousal (its first-tick flag is the circuit's). */
typedef struct { double fast, slow, pre_quick, pre_level; } pa_blk;
static void pa_blk_init(pa_blk *b)
{
    b->fast = 0.05;
    b->slow = 10;
    b->pre_quick = b->pre_level = 0;
}
static inline __attribute__((always_inline)) double pa_blk_tick(pa_blk *b, double a, int first, int commit)
{
    double pq = first ? a : b->pre_quick, pl = first ? a : b->pre_level;
    double quick = pq + alpha_(DT, b->fast) * (a - pq);
    double level = pl + alpha_(DT, b->slow) * (a - pl);
    if (commit) {
        b->pre_quick = quick;
        b->pre_level = level;
    }
    return max_(quick - level, 0);
}

/* std.social.compassion_spite and social_reward. */
typedef struct { double gain, overwhelm_at, overwhelm_gain; } cs_blk;
static void cs_blk_init(cs_blk *b)
{
    b->gain = 1;
    b->overwhelm_at = 0.8;
    b->overwhelm_gain = 3;
}
typedef struct { double social, overwhelm, sympathy, approval, schadenfreude, provocation; } sr_vals;
static inline __attribute__((always_inline)) sr_vals sr_blk(const cs_blk *b, double friend_, double seems, double stakes,
                      double about_me)
{
    sr_vals v;
    v.social = b->gain * friend_ * seems * stakes;
    v.overwhelm = b->overwhelm_gain * max_(stakes - b->overwhelm_at, 0);
    int is_friend = friend_ > 0, is_enemy = friend_ < 0;
    v.sympathy = is_friend ? v.social * (1 - about_me) : 0;
    v.approval = is_friend ? v.social * about_me : 0;
    v.schadenfreude = is_enemy ? v.social * (1 - about_me) : 0;
    v.provocation = is_enemy ? v.social * about_me : 0;
    return v;
}

static int ranges_ok(const double *v, int n, double lo, double hi)
{
    int ok = 1;
    for (int k = 0; k < n; k++)
        ok &= in_(v[k], lo, hi);
    return ok;
}

static int finite_all(const double *v, int n)
{
    int ok = 1;
    for (int k = 0; k < n; k++)
        ok &= finite_(v[k]);
    return ok;
}

/* ---- examples/01_spider --------------------------------------------------- */

typedef struct {
    double deferring_pad; /* (the bool param lives in `deferring`) */
    double leak, alpha;
    reflex_st orient;
    pred danger;
    u8 deferring;
} spider_st;
typedef struct {
    double jitter, blob;
    u8 looking;
    double thought[4];
    u8 label_spider;
} spider_in;
typedef struct {
    u8 detected, false_alarm, miss;
    double alarm, arousal, prediction;
} spider_out;
static void spider_init(void *sv)
{
    spider_st *s = sv;
    memset(s, 0, sizeof *s);
    s->deferring = 1;
    s->alpha = alpha_const(0.2);
    reflex_init(&s->orient, 100);
}
static int spider_step(void *sv, const void *iv, void *ov)
{
    spider_st *s = sv;
    const spider_in *in = iv;
    spider_out *out = ov;
    double spidery = sigmoid_(12 * (0.8 * in->jitter + 0.2 * in->blob - 0.5));
    int detected = spidery > 0.5;
    out->detected = (u8)detected;
    out->false_alarm = detected && !in->label_spider;
    out->miss = in->label_spider && !detected;
    int on, fire;
    double strength;
    reflex_st next;
    reflex_tick(&s->orient, detected, 1, 40, 100, &on, &fire, &strength, &next);
    int on_vision = in->looking || on;
    double alarm = s->leak;
    out->alarm = alarm;
    pred_vals v = pred_tick(&s->danger, in->thought, 4, 20, alarm, s->deferring && !on_vision);
    out->prediction = v.y;
    out->arousal = v.target;
    if (!(in_(in->jitter, 0, 1) && in_(in->blob, 0, 1) && finite_all(in->thought, 4)))
        return 1;
    s->orient = next;
    s->leak = s->leak + s->alpha * (spidery - s->leak);
    pred_commit(&s->danger, in->thought, 4, 20, &v, 0.005);
    return 0;
}

/* ---- examples/02_upstream_generalization ---------------------------------- */

typedef struct { double leak, alpha; pred visceral, value; u8 upstream_on; } up_st;
typedef struct { double jitter, blob; u8 looking; double thought[4]; } up_in;
typedef struct { double alarm, aversion, fear, reward; } up_out;
static void up_init(void *sv)
{
    up_st *s = sv;
    memset(s, 0, sizeof *s);
    s->upstream_on = 1;
    s->alpha = alpha_const(0.2);
}
static int up_step(void *sv, const void *iv, void *ov)
{
    up_st *s = sv;
    const up_in *in = iv;
    up_out *out = ov;
    double spidery = sigmoid_(12 * (0.8 * in->jitter + 0.2 * in->blob - 0.5));
    double innate = s->leak;
    pred_vals vis = pred_tick(&s->visceral, in->thought, 4, 10, innate, !in->looking);
    double alarm = s->upstream_on ? vis.target : innate;
    double fear = -alarm;
    pred_vals val = pred_tick(&s->value, in->thought, 4, 0, fear, 0);
    out->alarm = alarm;
    out->aversion = -val.y;
    out->fear = fear;
    out->reward = fear;
    if (!(in_(in->jitter, 0, 1) && in_(in->blob, 0, 1) && finite_all(in->thought, 4)))
        return 1;
    s->leak = s->leak + s->alpha * (spidery - s->leak);
    pred_commit(&s->visceral, in->thought, 4, 10, &vis, 0.005);
    pred_commit(&s->value, in->thought, 4, 0, &val, 0.005);
    return 0;
}

/* ---- examples/03_concept_finder ------------------------------------------- */

typedef struct { double base_rate; pred finder; u8 gated; } cfx_st;
typedef struct { double intero[6], arousal; u8 on_body; } cfx_in;
typedef struct { double reading, readout_error, seems_to_feel; } cfx_out;
static void cfx_init(void *sv)
{
    cfx_st *s = sv;
    memset(s, 0, sizeof *s);
    s->gated = 1;
    s->base_rate = 0.005;
}
static int cfx_step(void *sv, const void *iv, void *ov)
{
    cfx_st *s = sv;
    const cfx_in *in = iv;
    cfx_out *out = ov;
    int intero = in->on_body != 0;
    pred_vals v = pred_tick(&s->finder, in->intero, 6, 0, in->arousal, 0);
    out->reading = v.y;
    out->readout_error = intero ? v.y - in->arousal : 0;
    out->seems_to_feel = !intero ? v.y : 0;
    if (!(finite_all(in->intero, 6) && in_(in->arousal, 0, 2)))
        return 1;
    double rate = s->gated ? s->base_rate * (intero ? 1 : 0) : s->base_rate;
    pred_commit(&s->finder, in->intero, 6, 0, &v, rate);
    return 0;
}

/* ---- examples/04_empathetic_readout --------------------------------------- */

typedef struct { sa_st sa; double learning_rate, gating; pred finder; } emp_st;
typedef struct {
    double vision[8], audio[4];
    u8 eye_contact;
    double concept[8], pleasure, other;
} emp_in;
typedef struct { u8 attending, on_body; double reading, seems, own; } emp_out;
static void emp_init(void *sv)
{
    emp_st *s = sv;
    memset(s, 0, sizeof *s);
    sa_init(&s->sa);
    s->learning_rate = 0.005;
    s->gating = 1;
}
static int emp_step(void *sv, const void *iv, void *ov)
{
    emp_st *s = sv;
    const emp_in *in = iv;
    emp_out *out = ov;
    int ok = ranges_ok(in->vision, 8, 0, 1) && ranges_ok(in->audio, 4, 0, 1) &&
             finite_all(in->concept, 8) && in_(in->pleasure, -1, 1) && in_(in->other, -1, 1);
    sa_result sa = sa_tick(&s->sa, in->vision, in->audio, 0, in->eye_contact, 0, ok);
    int intero = !sa.attending;
    double on_body = intero ? 1 : 1 - s->gating;
    pred_vals v = pred_tick(&s->finder, in->concept, 8, 0, in->pleasure, 0);
    out->attending = (u8)sa.attending;
    out->on_body = (u8)intero;
    out->reading = v.y;
    out->seems = sa.attending ? v.y : 0;
    out->own = !sa.attending ? v.y : 0;
    if (!ok)
        return 1;
    pred_commit(&s->finder, in->concept, 8, 0, &v, s->learning_rate * on_body);
    return 0;
}

/* ---- examples/05_compassion_spite ----------------------------------------- */

typedef struct { sa_st sa; pa_blk ar; cs_blk cs; u8 first; } comp_st;
typedef struct { double vision[8], audio[4], reading, arousal, friend_; } comp_in;
typedef struct { u8 attending; double seems, stakes, social, overwhelm, valence, reward; } comp_out;
static void comp_init(void *sv)
{
    comp_st *s = sv;
    memset(s, 0, sizeof *s);
    sa_init(&s->sa);
    pa_blk_init(&s->ar);
    cs_blk_init(&s->cs);
    s->first = 1;
}
static int comp_step(void *sv, const void *iv, void *ov)
{
    comp_st *s = sv;
    const comp_in *in = iv;
    comp_out *out = ov;
    int ok = ranges_ok(in->vision, 8, 0, 1) && ranges_ok(in->audio, 4, 0, 1) &&
             in_(in->reading, -1, 1) && in_(in->arousal, 0, 1) && in_(in->friend_, -1, 1);
    sa_result sa = sa_tick(&s->sa, in->vision, in->audio, 0, 0, 0, ok);
    double seems = sa.attending ? in->reading : 0;
    double stakes = pa_blk_tick(&s->ar, in->arousal, s->first, ok);
    sr_vals cs = sr_blk(&s->cs, in->friend_, clamp_(seems, -1, 1), stakes, 0);
    out->attending = (u8)sa.attending;
    out->seems = seems;
    out->stakes = stakes;
    out->social = cs.social;
    out->overwhelm = cs.overwhelm;
    out->valence = cs.social - cs.overwhelm;
    out->reward = out->valence;
    if (!ok)
        return 1;
    s->first = 0;
    return 0;
}

/* ---- examples/06_approval ------------------------------------------------- */

typedef struct {
    sa_st sa;
    pa_blk ar;
    cs_blk sr;
    double arousal_per_cue, rest_arousal;
    u8 first;
} appr_st;
typedef struct { u8 attending; double seems, stakes, about_me; sr_vals sr; } appr_vals;
static void appr_blk_init(appr_st *s)
{
    memset(s, 0, sizeof *s);
    sa_init(&s->sa);
    pa_blk_init(&s->ar);
    cs_blk_init(&s->sr);
    s->arousal_per_cue = 0.3;
    s->rest_arousal = 0.1;
    s->first = 1;
}
static inline __attribute__((always_inline)) appr_vals appr_blk(appr_st *s, const double *vision, const double *audio, int eye,
                          double reading, double friend_, int commit)
{
    appr_vals v;
    sa_result sa = sa_tick(&s->sa, vision, audio, 0, eye, 0, commit);
    v.attending = (u8)sa.attending;
    v.seems = sa.attending ? reading : 0;
    v.stakes = pa_blk_tick(&s->ar, clamp_(s->rest_arousal + s->arousal_per_cue * sa.level, 0, 1),
                           s->first, commit);
    v.about_me = eye ? 1 : 0;
    v.sr = sr_blk(&s->sr, friend_, clamp_(v.seems, -1, 1), v.stakes, v.about_me);
    if (commit)
        s->first = 0;
    return v;
}

typedef struct { double vision[8], audio[4]; u8 eye_contact; double reading, friend_; } appr_in;
typedef struct {
    u8 attending;
    double seems, stakes, about_me, sympathy, approval, schadenfreude, provocation, reward;
} appr_out;
static void appr_init(void *sv) { appr_blk_init(sv); }
static int appr_step(void *sv, const void *iv, void *ov)
{
    const appr_in *in = iv;
    appr_out *out = ov;
    int ok = ranges_ok(in->vision, 8, 0, 1) && ranges_ok(in->audio, 4, 0, 1) &&
             in_(in->reading, -1, 1) && in_(in->friend_, -1, 1);
    appr_vals v = appr_blk(sv, in->vision, in->audio, in->eye_contact, in->reading, in->friend_, ok);
    out->attending = v.attending;
    out->seems = v.seems;
    out->stakes = v.stakes;
    out->about_me = v.about_me;
    out->sympathy = v.sr.sympathy;
    out->approval = v.sr.approval;
    out->schadenfreude = v.sr.schadenfreude;
    out->provocation = v.sr.provocation;
    out->reward = v.sr.sympathy + v.sr.approval + v.sr.schadenfreude + v.sr.provocation;
    return !ok;
}

typedef struct { appr_st me; double about_me_share; } meet_st;
typedef struct {
    double vision[8], audio[4];
    u8 eye_contact;
    double mood, regard, thinking_of_me, friend_;
} meet_in;
typedef struct {
    double apparent;
    u8 attending;
    double seems, stakes, about_me, sympathy, approval, reward;
} meet_out;
static void meet_init(void *sv)
{
    meet_st *s = sv;
    appr_blk_init(&s->me);
    s->about_me_share = 0.8;
}
static int meet_step(void *sv, const void *iv, void *ov)
{
    meet_st *s = sv;
    const meet_in *in = iv;
    meet_out *out = ov;
    int ok = ranges_ok(in->vision, 8, 0, 1) && ranges_ok(in->audio, 4, 0, 1) &&
             in_(in->mood, -1, 1) && in_(in->regard, -1, 1) && in_(in->thinking_of_me, 0, 1) &&
             in_(in->friend_, -1, 1);
    double share = s->about_me_share * in->thinking_of_me;
    double apparent = (1 - share) * in->mood + share * in->regard;
    appr_vals v = appr_blk(&s->me, in->vision, in->audio, in->eye_contact, apparent, in->friend_,
                           ok);
    out->apparent = apparent;
    out->attending = v.attending;
    out->seems = v.seems;
    out->stakes = v.stakes;
    out->about_me = v.about_me;
    out->sympathy = v.sr.sympathy;
    out->approval = v.sr.approval;
    out->reward = v.sr.sympathy + v.sr.approval;
    return !ok;
}

/* ---- examples/07_phoebe_autism -------------------------------------------- */

typedef struct {
    sa_st sa;
    pa_blk ar;
    cs_blk sr;
    double arousal_per_cue, rest_arousal, learning_rate;
    pred liked, kind;
    double hold_liked, hold_kind, acc_approval, acc_sympathy;
    u8 first;
} ph_st;
typedef struct {
    double vision[8], audio[4];
    u8 eye_contact;
    double reading, about_me, friend_, thought[8];
    u8 imagining;
} ph_in;
typedef struct {
    u8 attending;
    double seems, stakes, overwhelm, approval_drive, sympathy_drive, approval_sum, sympathy_sum,
        sympathy, approval, reward;
} ph_out;
static void ph_init(void *sv)
{
    ph_st *s = sv;
    memset(s, 0, sizeof *s);
    sa_init(&s->sa);
    pa_blk_init(&s->ar);
    cs_blk_init(&s->sr);
    s->arousal_per_cue = 0.4;
    s->rest_arousal = 0.1;
    s->learning_rate = 0.001;
    s->first = 1;
}
static int ph_step(void *sv, const void *iv, void *ov)
{
    ph_st *s = sv;
    const ph_in *in = iv;
    ph_out *out = ov;
    int ok = ranges_ok(in->vision, 8, 0, 1) && ranges_ok(in->audio, 4, 0, 1) &&
             in_(in->reading, -1, 1) && in_(in->about_me, 0, 1) && in_(in->friend_, -1, 1) &&
             finite_all(in->thought, 8);
    sa_result sa = sa_tick(&s->sa, in->vision, in->audio, 0, in->eye_contact, 0, ok);
    double seems = sa.attending ? in->reading : 0;
    double stakes = pa_blk_tick(
        &s->ar, clamp_(s->rest_arousal + s->arousal_per_cue * sa.level, 0, 1), s->first, ok);
    sr_vals sr = sr_blk(&s->sr, in->friend_, clamp_(seems, -1, 1), stakes, in->about_me);
    int present = !in->imagining;
    pred_vals liked = pred_tick(&s->liked, in->thought, 8, 10, sr.approval, !present);
    pred_vals kind = pred_tick(&s->kind, in->thought, 8, 10, sr.sympathy, !present);
    double sympathy = kind.target, approval = liked.target;
    int take = sqrt(dot8(in->thought, in->thought)) > 0;
    double hl = take ? liked.y : s->hold_liked, hk = take ? kind.y : s->hold_kind;
    out->attending = (u8)sa.attending;
    out->seems = seems;
    out->stakes = stakes;
    out->overwhelm = sr.overwhelm;
    out->approval_drive = hl;
    out->sympathy_drive = hk;
    out->approval_sum = s->acc_approval;
    out->sympathy_sum = s->acc_sympathy;
    out->sympathy = sympathy;
    out->approval = approval;
    out->reward = sympathy + approval;
    if (!ok)
        return 1;
    pred_commit(&s->liked, in->thought, 8, 10, &liked, s->learning_rate);
    pred_commit(&s->kind, in->thought, 8, 10, &kind, s->learning_rate);
    s->hold_liked = hl;
    s->hold_kind = hk;
    s->acc_approval = s->acc_approval + approval * 0.01;
    s->acc_sympathy = s->acc_sympathy + sympathy * 0.01;
    s->first = 0;
    return 0;
}

/* ---- examples/08_feared --------------------------------------------------- */

typedef struct {
    sa_st sa;
    pa_blk ar;
    double f_learning_rate, f_gating, arousal_per_cue, rest_arousal, gain, unattended, fear_block;
    pred finder;
    u8 first;
} fe8_st;
typedef struct {
    double vision[8], audio[4];
    u8 eye_contact;
    double concept[8], own_fear;
    u8 on_body;
} fe8_in;
typedef struct {
    u8 attending;
    double reading, seems_fear, stakes;
    u8 blocked;
    double feared, reward;
} fe8_out;
static void fe8_init(void *sv)
{
    fe8_st *s = sv;
    memset(s, 0, sizeof *s);
    sa_init(&s->sa);
    pa_blk_init(&s->ar);
    s->f_learning_rate = 0.02;
    s->f_gating = 1;
    s->arousal_per_cue = 0.4;
    s->rest_arousal = 0.1;
    s->gain = 1;
    s->unattended = 0.3;
    s->fear_block = 0.3;
    s->first = 1;
}
static int fe8_step(void *sv, const void *iv, void *ov)
{
    fe8_st *s = sv;
    const fe8_in *in = iv;
    fe8_out *out = ov;
    int ok = ranges_ok(in->vision, 8, 0, 1) && ranges_ok(in->audio, 4, 0, 1) &&
             finite_all(in->concept, 8) && in_(in->own_fear, 0, 1);
    sa_result sa = sa_tick(&s->sa, in->vision, in->audio, 0, in->eye_contact, 0, ok);
    int attend_body = in->on_body && !sa.attending;
    double on_body = attend_body ? 1 : 1 - s->f_gating;
    pred_vals v = pred_tick(&s->finder, in->concept, 8, 0, in->own_fear, 0);
    double seems = sa.attending ? v.y : 0;
    double stakes = pa_blk_tick(
        &s->ar, clamp_(s->rest_arousal + s->arousal_per_cue * sa.level, 0, 1), s->first, ok);
    double to_me = in->eye_contact ? 1 : 0;
    double attention = s->unattended + (1 - s->unattended) * to_me;
    int afraid = in->own_fear >= s->fear_block;
    double drive = !afraid ? s->gain * clamp_(seems, 0, 1) * stakes * attention : 0;
    out->attending = (u8)sa.attending;
    out->reading = v.y;
    out->seems_fear = seems;
    out->stakes = stakes;
    out->blocked = (u8)afraid;
    out->feared = drive;
    out->reward = drive;
    if (!ok)
        return 1;
    pred_commit(&s->finder, in->concept, 8, 0, &v, s->f_learning_rate * on_body);
    s->first = 0;
    return 0;
}

/* ---- examples/09_sympathy_false_negatives --------------------------------- */

typedef struct { sa_st sa; pa_blk ar; cs_blk sr; u8 first; } fn_st;
typedef struct { double vision[8], audio[4], reading, arousal, friend_, actual; } fn_in;
typedef struct {
    u8 attending;
    double seems, stakes, misjudged, sympathy, schadenfreude, reward;
} fn_out;
static void fn_init(void *sv)
{
    fn_st *s = sv;
    memset(s, 0, sizeof *s);
    sa_init(&s->sa);
    pa_blk_init(&s->ar);
    cs_blk_init(&s->sr);
    s->first = 1;
}
static int fn_step(void *sv, const void *iv, void *ov)
{
    fn_st *s = sv;
    const fn_in *in = iv;
    fn_out *out = ov;
    int ok = ranges_ok(in->vision, 8, 0, 1) && ranges_ok(in->audio, 4, 0, 1) &&
             in_(in->reading, -1, 1) && in_(in->arousal, 0, 1) && in_(in->friend_, -1, 1) &&
             in_(in->actual, -1, 1);
    sa_result sa = sa_tick(&s->sa, in->vision, in->audio, 0, 0, 0, ok);
    double seems = sa.attending ? in->reading : 0;
    double stakes = pa_blk_tick(&s->ar, in->arousal, s->first, ok);
    sr_vals sr = sr_blk(&s->sr, in->friend_, clamp_(seems, -1, 1), stakes, 0);
    out->attending = (u8)sa.attending;
    out->seems = seems;
    out->stakes = stakes;
    out->misjudged = sa.attending ? seems - in->actual : 0;
    out->sympathy = sr.sympathy;
    out->schadenfreude = sr.schadenfreude;
    out->reward = sr.sympathy + sr.schadenfreude;
    if (!ok)
        return 1;
    s->first = 0;
    return 0;
}

/* ---- examples/rl_compassion ----------------------------------------------- */

typedef struct { sa_st sa; pa_blk ar; cs_blk sr; double friend_, pre_total; u8 first; } rl_st;
typedef struct { double face; u8 eye_contact; double their_feeling; u8 new_encounter; } rl_in;
typedef struct {
    u8 attending;
    double seems, stakes, encounter, sympathy, approval, schadenfreude, provocation, reward;
} rl_out;
static void rl_init(void *sv)
{
    rl_st *s = sv;
    memset(s, 0, sizeof *s);
    sa_init(&s->sa);
    pa_blk_init(&s->ar);
    cs_blk_init(&s->sr);
    s->first = 1;
}
static int rl_step(void *sv, const void *iv, void *ov)
{
    rl_st *s = sv;
    const rl_in *in = iv;
    rl_out *out = ov;
    int ok = in_(in->face, 0, 1) && in_(in->their_feeling, -1, 1);
    double vision[8] = { 0 }, audio[4] = { 0 };
    for (int k = 0; k < 8; k++)
        vision[k] = in->face * FACE8[k];
    sa_result sa = sa_tick(&s->sa, vision, audio, 0, in->eye_contact, 0, ok);
    double seems = sa.attending ? in->their_feeling : 0;
    double stakes = pa_blk_tick(&s->ar, clamp_(0.2 + 0.3 * sa.level, 0, 1), s->first, ok);
    sr_vals sr = sr_blk(&s->sr, s->friend_, clamp_(seems, -1, 1), stakes,
                        in->eye_contact ? 1 : 0);
    double sum = sr.sympathy + sr.approval + sr.schadenfreude + sr.provocation;
    double total = (in->new_encounter ? 0 : s->pre_total) + sum * 0.01;
    out->attending = (u8)sa.attending;
    out->seems = seems;
    out->stakes = stakes;
    out->encounter = total;
    out->sympathy = sr.sympathy;
    out->approval = sr.approval;
    out->schadenfreude = sr.schadenfreude;
    out->provocation = sr.provocation;
    out->reward = sum;
    if (!ok)
        return 1;
    s->pre_total = total;
    s->first = 0;
    return 0;
}

#define REF(mod, name, st, init, step) { mod, name, sizeof(st), init, step }
const bench_ref bench_refs_examples[] = {
    REF("spider", "spider", spider_st, spider_init, spider_step),
    REF("upstream", "upstream", up_st, up_init, up_step),
    REF("concept_finder", "concept_finder", cfx_st, cfx_init, cfx_step),
    REF("empathetic_readout", "empathy", emp_st, emp_init, emp_step),
    REF("compassion_spite", "compassion", comp_st, comp_init, comp_step),
    REF("approval", "approval_drive", appr_st, appr_init, appr_step),
    REF("approval", "meeting", meet_st, meet_init, meet_step),
    REF("phoebe_autism", "phoebe_autism", ph_st, ph_init, ph_step),
    REF("feared", "feared", fe8_st, fe8_init, fe8_step),
    REF("false_negatives", "false_negatives", fn_st, fn_init, fn_step),
    REF("compassion_reward", "compassion_reward", rl_st, rl_init, rl_step),
    REF("social_attention", "social_attention", sat_st, sat_init, sat_step),
};
const int bench_n_refs_examples = (int)(sizeof bench_refs_examples / sizeof bench_refs_examples[0]);
