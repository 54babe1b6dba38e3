#include "fastcdc.h"

/* Mirrors fastcdc::v2020::cut_gear: indices advance in pairs from min/2, the small-chunk masks
 * apply below `center`, the large-chunk masks after it, and all arithmetic wraps at 64 bits. */
size_t kcdc_cut(const kcdc_params *p, const uint8_t *src, size_t n) {
  size_t remaining = n;
  if (remaining <= p->min_size) return remaining;
  size_t center = p->avg_size;
  if (remaining > p->max_size) {
    remaining = p->max_size;
  } else if (remaining < center) {
    center = remaining;
  }
  const uint64_t *gear = p->gear, *gear_ls = p->gear_ls;
  size_t a = (p->min_size / 2) * 2;
  const size_t center_end = (center / 2) * 2;
  const size_t end = (remaining / 2) * 2;
  uint64_t hash = 0;

  const uint64_t ms = p->mask_s, ms_ls = p->mask_s_ls;
  for (; a < center_end; a += 2) {
    hash = (hash << 2) + gear_ls[src[a]];
    if ((hash & ms_ls) == 0) return a;
    hash += gear[src[a + 1]];
    if ((hash & ms) == 0) return a + 1;
  }
  const uint64_t ml = p->mask_l, ml_ls = p->mask_l_ls;
  for (; a < end; a += 2) {
    hash = (hash << 2) + gear_ls[src[a]];
    if ((hash & ml_ls) == 0) return a;
    hash += gear[src[a + 1]];
    if ((hash & ml) == 0) return a + 1;
  }
  return remaining;
}

size_t kcdc_cuts(const kcdc_params *p, const uint8_t *src, size_t n, int final,
                 uint32_t *out, size_t out_cap) {
  size_t pos = 0, count = 0;
  while (count < out_cap && pos < n) {
    size_t rem = n - pos;
    if (!final && rem < p->max_size) break;
    size_t len = kcdc_cut(p, src + pos, rem);
    out[count++] = (uint32_t)len;
    pos += len;
  }
  return count;
}
