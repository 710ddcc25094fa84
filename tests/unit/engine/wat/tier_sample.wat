;; tier_sample.wat: test_tier_sample's module: a bounded loop with a result to check, and a loop
;; that runs until the host interrupts it, each iteration filling 64 KiB (so the loop counters,
;; 16 per 256 iterations, would need hours to reach test_tier_sample's threshold).
(module
  (memory 1)
  (func (export "work") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  (func (export "spin")
    (loop $l (memory.fill (i32.const 0) (i32.const 7) (i32.const 65536)) (br $l))))
