// Not part of the API (installed for tensor.hpp's inline handle).
// Ref<T>: an intrusive reference-counted pointer. T has an atomic `refs_` and a free function
// `release_last(T*)` that runs when the count reaches zero.
#pragma once

#include <atomic>
#include <utility>

namespace ad::detail {

template <class T>
class Ref {
 public:
  Ref() = default;
  explicit Ref(T* p) : p_(p) { retain(); }
  /// Owns a just-made object without a locked increment: no other thread can see it yet, so its
  /// count is set to 1 with a plain store. (A locked instruction right after the object's
  /// construction waits for all those stores to drain: the costliest step of recording an op.)
  static Ref adopt(T* fresh) {
    fresh->refs_.store(1, std::memory_order_relaxed);
    Ref r;
    r.p_ = fresh;
    return r;
  }
  Ref(const Ref& o) : p_(o.p_) { retain(); }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Ref& operator=(const Ref& o) {
    Ref(o).swap(*this);
    return *this;
  }
  Ref& operator=(Ref&& o) noexcept {
    Ref(std::move(o)).swap(*this);
    return *this;
  }
  ~Ref() { reset(); }

  void reset() {
    if (p_ && p_->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) release_last(p_);
    p_ = nullptr;
  }
  void swap(Ref& o) noexcept { std::swap(p_, o.p_); }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  /// True when this is the only reference.
  bool unique() const { return p_ && p_->refs_.load(std::memory_order_acquire) == 1; }

 private:
  void retain() {
    if (p_) p_->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  T* p_ = nullptr;
};

}  // namespace ad::detail
