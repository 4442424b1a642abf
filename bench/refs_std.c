/* refs_std.c — the standard library's circuits (stdlib/std/core.drive and
 * social.drive) written by hand in C: the baselines of the step benchmark.
 * Each follows its .drive source line by line; `in` and `out` are the
 * compiled step's blocks (declaration order, natural alignment), the state
 * is each function's own struct. A tick whose inputs are invalid (not
 * finite, or outside a declared range) writes the outputs, keeps the state
 * and returns 1, as the compiled step does. */
#include "refs.h"
#include "refs_blocks.h"

#include <stdint.h>


/* ---- std.core ----------------------------------------------------------- */

typedef struct { u8 pre_x; } rise_st;
typedef struct { u8 x; } rise_in;
typedef struct { u8 y; } rise_out;
static void rise_init(void *s) { memset(s, 0, sizeof(rise_st)); }
static int rise_step(void *sv, const void *iv, void *ov)
{
    rise_st *s = sv;
    const rise_in *in = iv;
    rise_out *out = ov;
    out->y = in->x && !s->pre_x;
    s->pre_x = in->x != 0;
    return 0;
}

static int fall_step(void *sv, const void *iv, void *ov)
{
    rise_st *s = sv;
    const rise_in *in = iv;
    rise_out *out = ov;
    out->y = !in->x && s->pre_x;
    s->pre_x = in->x != 0;
    return 0;
}

typedef struct { double pre_y; } hold_st;
typedef struct { double x; u8 take; } hold_in;
typedef struct { double y; } hold_out;
static void hold_init(void *s) { memset(s, 0, sizeof(hold_st)); }
static int hold_step(void *sv, const void *iv, void *ov)
{
    hold_st *s = sv;
    const hold_in *in = iv;
    hold_out *out = ov;
    double y = in->take ? in->x : s->pre_y;
    out->y = y;
    if (!finite_(in->x))
        return 1;
    s->pre_y = y;
    return 0;
}

typedef struct { double d[10]; } delay_st; /* d[0] = pre(x), d[k] = pre(d_k) */
typedef struct { double x; } delay_in;
typedef struct { double y; } delay_out;
static void delay_init(void *s) { memset(s, 0, sizeof(delay_st)); }
static int delay_step(void *sv, const void *iv, void *ov)
{
    delay_st *s = sv;
    const delay_in *in = iv;
    delay_out *out = ov;
    out->y = s->d[9];
    if (!finite_(in->x))
        return 1;
    for (int k = 9; k > 0; k--)
        s->d[k] = s->d[k - 1];
    s->d[0] = in->x;
    return 0;
}

typedef struct { double length, pre_left; u8 pre_go, pre_on; } pulse_st;
typedef struct { u8 go; } pulse_in;
typedef struct { u8 on; } pulse_out;
static void pulse_init(void *sv)
{
    pulse_st *s = sv;
    memset(s, 0, sizeof *s);
    s->length = 0.3;
}
static int pulse_step(void *sv, const void *iv, void *ov)
{
    pulse_st *s = sv;
    const pulse_in *in = iv;
    pulse_out *out = ov;
    int start = in->go && !s->pre_go && !s->pre_on;
    double left = start ? s->length / DT : s->pre_left > 1 ? s->pre_left - 1 : 0;
    int on = left > 0;
    out->on = (u8)on;
    s->pre_go = in->go != 0;
    s->pre_on = (u8)on;
    s->pre_left = left;
    return 0;
}

typedef struct { double tau, s; } leaky_st;
typedef struct { double x; } leaky_in;
typedef struct { double y; } leaky_out;
static void leaky_init(void *sv)
{
    leaky_st *s = sv;
    s->tau = 0.2;
    s->s = 0;
}
static int leaky_step(void *sv, const void *iv, void *ov)
{
    leaky_st *s = sv;
    const leaky_in *in = iv;
    leaky_out *out = ov;
    out->y = s->s;
    double next = s->s + alpha_(DT, s->tau) * (in->x - s->s);
    if (!finite_(in->x))
        return 1;
    s->s = next;
    return 0;
}

typedef struct { double threshold, gain; } soft_st;
typedef struct { double x; } soft_in;
typedef struct { double y; } soft_out;
static void soft_init(void *sv)
{
    soft_st *s = sv;
    s->threshold = 0.5;
    s->gain = 10;
}
static int soft_step(void *sv, const void *iv, void *ov)
{
    soft_st *s = sv;
    const soft_in *in = iv;
    soft_out *out = ov;
    out->y = sigmoid_(s->gain * (in->x - s->threshold));
    return !finite_(in->x);
}

typedef struct { double tau, inhibition, sa, sb; } opp_st;
typedef struct { double push_a, push_b; } opp_in;
typedef struct { double a, b, balance; } opp_out;
static void opp_init(void *sv)
{
    opp_st *s = sv;
    s->tau = 1;
    s->inhibition = 1;
    s->sa = s->sb = 0;
}
static int opp_step(void *sv, const void *iv, void *ov)
{
    opp_st *s = sv;
    const opp_in *in = iv;
    opp_out *out = ov;
    out->a = s->sa;
    out->b = s->sb;
    out->balance = s->sa - s->sb;
    double al = alpha_(DT, s->tau);
    double na = s->sa + al * (max_(0, in->push_a - s->inhibition * s->sb) - s->sa);
    double nb = s->sb + al * (max_(0, in->push_b - s->inhibition * s->sa) - s->sb);
    if (!finite_(in->push_a) || !finite_(in->push_b))
        return 1;
    s->sa = na;
    s->sb = nb;
    return 0;
}

typedef struct { double limit, overwhelm_gain; } av_st;
typedef struct { double arousal, valence; } av_in;
typedef struct { double valence_out, overwhelm; u8 overwhelmed; } av_out;
static void av_init(void *sv)
{
    av_st *s = sv;
    s->limit = 1;
    s->overwhelm_gain = 4;
}
static int av_step(void *sv, const void *iv, void *ov)
{
    av_st *s = sv;
    const av_in *in = iv;
    av_out *out = ov;
    out->overwhelm = s->overwhelm_gain * max_(0, in->arousal - s->limit);
    out->overwhelmed = in->arousal > s->limit;
    out->valence_out = in->arousal * in->valence - out->overwhelm;
    return !(in_(in->arousal, 0, 10) && finite_(in->valence));
}

/* ---- std.social --------------------------------------------------------- */

static int sa_step(void *sv, const void *iv, void *ov)
{
    sa_st *s = sv;
    const sa_in *in = iv;
    sa_out *out = ov;
    int ok = sa_valid(in);
    sa_result r = sa_tick(s, in->vision, in->audio, in->touch, in->eye_contact, in->predicted, ok);
    out->cue = r.cue;
    out->attending = (u8)r.attending;
    out->level = r.level;
    out->onset = (u8)r.onset;
    out->innate = r.innate;
    return !ok;
}

typedef struct { double learning_rate, gating; pred8 finder; } cf_st;
typedef struct { double concept[8], actual; u8 attend_body; } cf_in;
typedef struct { double reading, error, learning; } cf_out;
static void cf_init(void *sv)
{
    cf_st *s = sv;
    memset(s, 0, sizeof *s);
    s->learning_rate = 0.02;
    s->gating = 1;
}
static int cf_step(void *sv, const void *iv, void *ov)
{
    cf_st *s = sv;
    const cf_in *in = iv;
    cf_out *out = ov;
    double on_body = in->attend_body ? 1 : 1 - s->gating;
    double y = pred8_out(&s->finder, in->concept);
    double e = in->actual - y;
    out->reading = y;
    out->error = e;
    out->learning = s->learning_rate * on_body;
    int ok = in_(in->actual, -1, 1);
    for (int k = 0; k < 8; k++)
        ok &= finite_(in->concept[k]);
    if (!ok)
        return 1;
    pred8_learn(&s->finder, in->concept, s->learning_rate * on_body, e, 1);
    return 0;
}

typedef struct { double reading; u8 social; } er_in;
typedef struct { double seems, own; } er_out;
static void er_init(void *sv) { (void)sv; }
static int er_step(void *sv, const void *iv, void *ov)
{
    (void)sv;
    const er_in *in = iv;
    er_out *out = ov;
    out->seems = in->social ? in->reading : 0;
    out->own = !in->social ? in->reading : 0;
    return !finite_(in->reading);
}

typedef struct {
    double shift, inhibition, forget, friend_init, enemy_init, pre_friend, pre_enemy;
    u8 first;
} fe_st;
typedef struct { double thinking, valence; } fe_in;
typedef struct { double friend_, enemy, balance; } fe_out;
static void fe_init(void *sv)
{
    fe_st *s = sv;
    memset(s, 0, sizeof *s);
    s->shift = 2;
    s->inhibition = 1;
    s->forget = 3600;
    s->first = 1;
}
static int fe_step(void *sv, const void *iv, void *ov)
{
    fe_st *s = sv;
    const fe_in *in = iv;
    fe_out *out = ov;
    double push_f = in->thinking * clamp_(in->valence, 0, 1);
    double push_e = in->thinking * clamp_(-in->valence, 0, 1);
    double f = s->first ? s->friend_init : s->pre_friend;
    double e = s->first ? s->enemy_init : s->pre_enemy;
    double fr = clamp_(f + DT / s->shift * (push_f * (1 - f) - s->inhibition * e * f) -
                           DT / s->forget * f, 0, 1);
    double en = clamp_(e + DT / s->shift * (push_e * (1 - e) - s->inhibition * f * e) -
                           DT / s->forget * e, 0, 1);
    out->friend_ = fr;
    out->enemy = en;
    out->balance = fr - en;
    if (!(in_(in->thinking, 0, 1) && finite_(in->valence)))
        return 1;
    s->pre_friend = fr;
    s->pre_enemy = en;
    s->first = 0;
    return 0;
}

typedef struct { double fast, slow, pre_quick, pre_level; u8 first; } pa_st;
typedef struct { double arousal; } pa_in;
typedef struct { double phasic, tonic; } pa_out;
static void pa_init(void *sv)
{
    pa_st *s = sv;
    memset(s, 0, sizeof *s);
    s->fast = 0.05;
    s->slow = 10;
    s->first = 1;
}
static int pa_step(void *sv, const void *iv, void *ov)
{
    pa_st *s = sv;
    const pa_in *in = iv;
    pa_out *out = ov;
    double a = in->arousal;
    double pq = s->first ? a : s->pre_quick, pl = s->first ? a : s->pre_level;
    double quick = pq + alpha_(DT, s->fast) * (a - pq);
    double level = pl + alpha_(DT, s->slow) * (a - pl);
    out->phasic = max_(quick - level, 0);
    out->tonic = level;
    if (!in_(a, 0, 1))
        return 1;
    s->pre_quick = quick;
    s->pre_level = level;
    s->first = 0;
    return 0;
}

typedef struct { double gain, overwhelm_at, overwhelm_gain; } cs_st;
typedef struct { double friend_, seems, stakes; } cs_in;
typedef struct { double valence, social, overwhelm; } cs_out;
static void cs_init(void *sv)
{
    cs_st *s = sv;
    s->gain = 1;
    s->overwhelm_at = 0.8;
    s->overwhelm_gain = 3;
}
static int cs_step(void *sv, const void *iv, void *ov)
{
    cs_st *s = sv;
    const cs_in *in = iv;
    cs_out *out = ov;
    out->social = s->gain * in->friend_ * in->seems * in->stakes;
    out->overwhelm = s->overwhelm_gain * max_(in->stakes - s->overwhelm_at, 0);
    out->valence = out->social - out->overwhelm;
    return !(in_(in->friend_, -1, 1) && in_(in->seems, -1, 1) && in_(in->stakes, 0, 1));
}

typedef struct { double friend_, seems, stakes, about_me; } sr_in;
typedef struct {
    double overwhelm, sympathy, approval, schadenfreude, provocation, reward;
} sr_out;
static int sr_step(void *sv, const void *iv, void *ov)
{
    cs_st *s = sv;
    const sr_in *in = iv;
    sr_out *out = ov;
    double social = s->gain * in->friend_ * in->seems * in->stakes;
    out->overwhelm = s->overwhelm_gain * max_(in->stakes - s->overwhelm_at, 0);
    int is_friend = in->friend_ > 0, is_enemy = in->friend_ < 0;
    out->sympathy = is_friend ? social * (1 - in->about_me) : 0;
    out->approval = is_friend ? social * in->about_me : 0;
    out->schadenfreude = is_enemy ? social * (1 - in->about_me) : 0;
    out->provocation = is_enemy ? social * in->about_me : 0;
    out->reward = out->sympathy + out->approval + out->schadenfreude + out->provocation;
    return !(in_(in->friend_, -1, 1) && in_(in->seems, -1, 1) && in_(in->stakes, 0, 1) &&
             in_(in->about_me, 0, 1));
}

typedef struct { double gain, unattended, fear_block; } df_st;
typedef struct { double seems_fear, stakes, about_me, own_fear; } df_in;
typedef struct { u8 blocked; double feared, reward; } df_out;
static void df_init(void *sv)
{
    df_st *s = sv;
    s->gain = 1;
    s->unattended = 0.3;
    s->fear_block = 0.3;
}
static int df_step(void *sv, const void *iv, void *ov)
{
    df_st *s = sv;
    const df_in *in = iv;
    df_out *out = ov;
    double to_me = s->unattended + (1 - s->unattended) * in->about_me;
    int afraid = in->own_fear >= s->fear_block;
    double drive = !afraid ? s->gain * in->seems_fear * in->stakes * to_me : 0;
    out->feared = drive;
    out->reward = drive;
    out->blocked = (u8)afraid;
    return !(in_(in->seems_fear, 0, 1) && in_(in->stakes, 0, 1) && in_(in->about_me, 0, 1) &&
             in_(in->own_fear, 0, 1));
}

/* A predictor with a delay: rings of the last D contexts and outputs. */
enum { TA_D = 10 };
typedef struct {
    double learning_rate, reward_gain;
    pred8 assessor;
    double ctx[TA_D][8], out[TA_D];
    int pos, age;
} ta_st;
typedef struct { double thought[8], truth; u8 present; } ta_in;
typedef struct { double guess, target, error, assessed, reward; } ta_out;
static void ta_init(void *sv)
{
    ta_st *s = sv;
    memset(s, 0, sizeof *s);
    s->learning_rate = 0.01;
    s->reward_gain = -1;
}
static int ta_step(void *sv, const void *iv, void *ov)
{
    ta_st *s = sv;
    const ta_in *in = iv;
    ta_out *out = ov;
    double y = pred8_out(&s->assessor, in->thought);
    int valid = s->age >= TA_D;
    double target = !in->present ? y : in->truth;
    double e = valid ? target - s->out[s->pos] : 0;
    out->guess = y;
    out->target = target;
    out->error = e;
    out->assessed = s->reward_gain * target;
    out->reward = out->assessed;
    int ok = in_(in->truth, -1, 1);
    for (int k = 0; k < 8; k++)
        ok &= finite_(in->thought[k]);
    if (!ok)
        return 1;
    pred8_learn(&s->assessor, s->ctx[s->pos], s->learning_rate, e, valid);
    memcpy(s->ctx[s->pos], in->thought, sizeof s->ctx[0]);
    s->out[s->pos] = y;
    s->pos = s->pos + 1 >= TA_D ? 0 : s->pos + 1;
    if (!valid)
        s->age++;
    return 0;
}

#define REF(mod, name, st, init, step) { mod, name, sizeof(st), init, step }
const bench_ref bench_refs_std[] = {
    REF("std.core", "rise", rise_st, rise_init, rise_step),
    REF("std.core", "fall", rise_st, rise_init, fall_step),
    REF("std.core", "hold", hold_st, hold_init, hold_step),
    REF("std.core", "delay_line", delay_st, delay_init, delay_step),
    REF("std.core", "pulse", pulse_st, pulse_init, pulse_step),
    REF("std.core", "leaky", leaky_st, leaky_init, leaky_step),
    REF("std.core", "soft_threshold", soft_st, soft_init, soft_step),
    REF("std.core", "opponent", opp_st, opp_init, opp_step),
    REF("std.core", "arousal_valence", av_st, av_init, av_step),
    REF("std.social", "social_attention", sa_st, sa_init, sa_step),
    REF("std.social", "concept_finder", cf_st, cf_init, cf_step),
    REF("std.social", "empathetic_readout", char, er_init, er_step),
    REF("std.social", "friend_enemy", fe_st, fe_init, fe_step),
    REF("std.social", "phasic_arousal", pa_st, pa_init, pa_step),
    REF("std.social", "compassion_spite", cs_st, cs_init, cs_step),
    REF("std.social", "social_reward", cs_st, cs_init, sr_step),
    REF("std.social", "drive_to_be_feared", df_st, df_init, df_step),
    REF("std.social", "thought_assessor", ta_st, ta_init, ta_step),
};
const int bench_n_refs_std = (int)(sizeof bench_refs_std / sizeof bench_refs_std[0]);
