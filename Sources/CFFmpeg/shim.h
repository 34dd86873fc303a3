#ifndef MCU_CFFMPEG_SHIM_H
#define MCU_CFFMPEG_SHIM_H
#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/channel_layout.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

// Function-like and cast macros do not reach Swift; these expose them.
static inline int mcu_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int mcu_averror_eof(void) { return AVERROR_EOF; }
static inline int64_t mcu_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int mcu_averror(int e) { return AVERROR(e); }
static inline void mcu_av_log_quiet(void) { av_log_set_level(AV_LOG_ERROR); }
static inline void mcu_channel_layout_default(AVChannelLayout *layout, int channels) {
    av_channel_layout_default(layout, channels);
}
static inline void mcu_frame_set_stereo(AVFrame *frame) {
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    av_channel_layout_copy(&frame->ch_layout, &stereo);
}
static inline void mcu_codec_set_stereo(AVCodecContext *ctx) {
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    av_channel_layout_copy(&ctx->ch_layout, &stereo);
}
static inline void mcu_codecpar_set_stereo(AVCodecParameters *par) {
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    av_channel_layout_copy(&par->ch_layout, &stereo);
}
// Chapters are added by hand (the muxer API has no public call); avformat_free_context frees them.
static inline AVChapter *mcu_add_chapter(AVFormatContext *s, int64_t id, int64_t start_ms, int64_t end_ms, const char *title) {
    AVChapter *chapter = av_mallocz(sizeof(AVChapter));
    if (!chapter) return NULL;
    chapter->id = id;
    chapter->time_base = (AVRational){1, 1000};
    chapter->start = start_ms;
    chapter->end = end_ms;
    av_dict_set(&chapter->metadata, "title", title, 0);
    if (av_dynarray_add_nofree(&s->chapters, (int *)&s->nb_chapters, chapter) < 0) {
        av_dict_free(&chapter->metadata);
        av_free(chapter);
        return NULL;
    }
    return chapter;
}
#endif
