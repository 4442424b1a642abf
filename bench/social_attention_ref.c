/* social_attention_ref.c — examples/social_attention written by hand in C,
 * the baseline the compiled step function is measured against. It computes
 * exactly what the .drive source says, in the same IEEE operations, so the
 * benchmark can also check that both agree bit for bit. */
#include "social_attention_ref.h"

#include <math.h>

void ref_init(ref_state *s)
{
    s->threshold = 0.6;
    s->face_weight = 0.7;
    s->voice_weight = 0.4;
    s->pre_trigger = 0;
    s->pre_attending = 0;
    s->pre_since_end = 1000;
    s->pre_remaining = 0;
    s->pre_arousal = 0;
}

int ref_step(ref_state *s, const ref_in *in, ref_out *out)
{
    const double dt = 0.02;
    double conspecific = s->face_weight * in->face + s->voice_weight * in->voice +
                         (in->eye_contact ? 0.5 : 0.0);
    int trigger = conspecific > s->threshold;
    int onset = trigger && !s->pre_trigger;
    int rested = !s->pre_attending && s->pre_since_end * dt >= 0.2;
    int fire = onset && rested;
    double remaining = fire ? 0.3 / dt
                       : s->pre_remaining > 1 ? s->pre_remaining - 1 : 0.0;
    int attending = remaining > 0;
    double since_end = attending ? 0.0 : s->pre_since_end + 1;
    double decay = dt / 0.2;
    double arousal = s->pre_arousal * (1 - decay) + (fire ? conspecific : 0.0);
    out->conspecific = conspecific;
    out->attending = (unsigned char)attending;
    out->arousal = arousal;
    /* As the compiled step does: a tick with a non-finite input writes its
     * outputs but keeps the state, and says so. (The benchmark's inputs are
     * all valid; the check is here so that both do the same work.) */
    if (!isfinite(in->face) || !isfinite(in->voice))
        return 1;
    s->pre_trigger = (unsigned char)trigger;
    s->pre_attending = (unsigned char)attending;
    s->pre_since_end = since_end;
    s->pre_remaining = remaining;
    s->pre_arousal = arousal;
    return 0;
}
