#include <opus.h>

// opus_decoder_ctl is variadic (Swift cannot call it): the one request we make.
static inline int mcu_opus_reset(OpusDecoder *decoder) { return opus_decoder_ctl(decoder, OPUS_RESET_STATE); }
