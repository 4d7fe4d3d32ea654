/* Internal side of nl_transcoder (hwenc.h): a test hook that runs on the
 * worker thread right before each frame is handed to the encoder, so a test
 * can wedge the worker "inside the encoder" and check that teardown still
 * keeps its deadline. */
#ifndef NL_HW_TRANSCODER_H
#define NL_HW_TRANSCODER_H

#include "neolink/hwenc.h"

typedef void (*nl__transcoder_hook)(void *ud);

/* nl_transcoder_create with a hook (NULL: none). */
int nl__transcoder_create_hooked(nl_transcoder **out, nl_ctx *ctx, nl_arena *owner,
                                 const nl_transcoder_config *cfg, nl__transcoder_hook hook,
                                 void *hook_ud);

#endif
