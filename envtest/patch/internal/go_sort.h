// Go's sort.SliceStable (insertion sort on blocks of 20, then SymMerge), ported so that
// orders computed with upstream's comparators — which are not strict weak orders
// ("less" is true whenever an element is missing from the reference list) — come out
// exactly as in Go, and without the undefined behavior such a comparator would cause
// in std::stable_sort. Internal to envtest/patch.
#ifndef KSLICE_ENVTEST_PATCH_INTERNAL_GO_SORT_H_
#define KSLICE_ENVTEST_PATCH_INTERNAL_GO_SORT_H_

#include <cstddef>
#include <utility>
#include <vector>

namespace kslice::envtest::patch::internal {

template <typename T, typename LessFn>
class GoStableSorter {
 public:
  GoStableSorter(std::vector<T>* data, LessFn less) : d_(*data), less_(less) {}

  void Sort() {
    const size_t n = d_.size();
    size_t block = 20;
    size_t a = 0, b = block;
    while (b <= n) {
      InsertionSort(a, b);
      a = b;
      b += block;
    }
    InsertionSort(a, n);
    while (block < n) {
      a = 0;
      b = 2 * block;
      while (b <= n) {
        SymMerge(a, a + block, b);
        a = b;
        b += 2 * block;
      }
      if (size_t m = a + block; m < n) SymMerge(a, m, n);
      block *= 2;
    }
  }

 private:
  bool Lt(size_t i, size_t j) { return less_(d_[i], d_[j]); }
  void Swap(size_t i, size_t j) { std::swap(d_[i], d_[j]); }

  void InsertionSort(size_t a, size_t b) {
    for (size_t i = a + 1; i < b; ++i) {
      for (size_t j = i; j > a && Lt(j, j - 1); --j) Swap(j, j - 1);
    }
  }

  void SymMerge(size_t a, size_t m, size_t b) {
    if (m - a == 1) {
      size_t i = m, j = b;
      while (i < j) {
        size_t h = (i + j) >> 1;
        if (Lt(h, a)) {
          i = h + 1;
        } else {
          j = h;
        }
      }
      for (size_t k = a; k + 1 < i; ++k) Swap(k, k + 1);
      return;
    }
    if (b - m == 1) {
      size_t i = a, j = m;
      while (i < j) {
        size_t h = (i + j) >> 1;
        if (!Lt(m, h)) {
          i = h + 1;
        } else {
          j = h;
        }
      }
      for (size_t k = m; k > i; --k) Swap(k, k - 1);
      return;
    }
    const size_t mid = (a + b) >> 1;
    const size_t n = mid + m;
    size_t start, r;
    if (m > mid) {
      start = n - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const size_t p = n - 1;
    while (start < r) {
      size_t c = (start + r) >> 1;
      if (!Lt(p - c, c)) {
        start = c + 1;
      } else {
        r = c;
      }
    }
    const size_t end = n - start;
    if (start < m && m < end) Rotate(start, m, end);
    if (a < start && start < mid) SymMerge(a, start, mid);
    if (mid < end && end < b) SymMerge(mid, end, b);
  }

  void SwapRange(size_t a, size_t b, size_t n) {
    for (size_t i = 0; i < n; ++i) Swap(a + i, b + i);
  }

  void Rotate(size_t a, size_t m, size_t b) {
    size_t i = m - a, j = b - m;
    while (i != j) {
      if (i > j) {
        SwapRange(m - i, m, j);
        i -= j;
      } else {
        SwapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    SwapRange(m - i, m, i);
  }

  std::vector<T>& d_;
  LessFn less_;
};

template <typename T, typename LessFn>
void GoSliceStable(std::vector<T>* data, LessFn less) {
  GoStableSorter<T, LessFn>(data, less).Sort();
}

}  // namespace kslice::envtest::patch::internal

#endif  // KSLICE_ENVTEST_PATCH_INTERNAL_GO_SORT_H_
