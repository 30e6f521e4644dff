// The informer cache layer in one include: objects and keys (object.h), the indexed store
// (indexer.h) and the DeltaFIFO (delta_fifo.h). See docs/informers.md.
#ifndef KSLICE_INFORMERS_CACHE_CACHE_H_
#define KSLICE_INFORMERS_CACHE_CACHE_H_

#include "informers/cache/delta_fifo.h"  // IWYU pragma: export
#include "informers/cache/indexer.h"     // IWYU pragma: export
#include "informers/cache/object.h"      // IWYU pragma: export

#endif  // KSLICE_INFORMERS_CACHE_CACHE_H_
