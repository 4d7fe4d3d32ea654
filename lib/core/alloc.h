/* Internal allocation entry points. The only code that calls malloc/free
 * directly is lib/core/alloc.c; everything else goes through these so the
 * allocator hook (tests fail the Nth allocation through it) sees it all. */
#ifndef NL_CORE_ALLOC_H
#define NL_CORE_ALLOC_H

#include <stddef.h>

#include "neolink/alloc.h"

void *nl__malloc(size_t n);
void *nl__calloc(size_t count, size_t size); /* overflow-checked, zeroed */
void *nl__realloc(void *p, size_t n);
void nl__free(void *p);
char *nl__strdup(const char *s);

#endif
