/* social_attention_ref.h — the hand-written baseline's types. */
#ifndef BENCH_SOCIAL_ATTENTION_REF_H
#define BENCH_SOCIAL_ATTENTION_REF_H

typedef struct { double face, voice; unsigned char eye_contact; } ref_in;
typedef struct { double conspecific; unsigned char attending; double arousal; } ref_out;
typedef struct {
    double threshold, face_weight, voice_weight;
    double pre_since_end, pre_remaining, pre_arousal;
    unsigned char pre_trigger, pre_attending;
} ref_state;

void ref_init(ref_state *s);
/* Returns 1 when an input was invalid (the state then did not advance). */
int ref_step(ref_state *s, const ref_in *in, ref_out *out);

#endif
