/* FastCDC 2020 cut loop (gear hash, normalised chunking, two bytes per step), written to give
 * the same cut points as the Rust crate `fastcdc` (module v2020). The gear tables and masks are
 * computed in TypeScript (src/gear.ts) and handed over once, so both implementations share one
 * source of truth for them. */
#ifndef KEYMESH_FASTCDC_H
#define KEYMESH_FASTCDC_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t gear[256];
  uint64_t gear_ls[256];
  uint64_t mask_s, mask_l, mask_s_ls, mask_l_ls;
  size_t min_size, avg_size, max_size;
} kcdc_params;

/* Length of the next chunk of src[0..n) (n > 0). */
size_t kcdc_cut(const kcdc_params *p, const uint8_t *src, size_t n);

/* Cuts src[0..n) repeatedly, writing chunk lengths to out (at most out_cap of them).
 * Unless `final`, stops while fewer than max_size bytes remain, since more input could move
 * the next cut. Returns the number of lengths written. */
size_t kcdc_cuts(const kcdc_params *p, const uint8_t *src, size_t n, int final,
                 uint32_t *out, size_t out_cap);

#endif
