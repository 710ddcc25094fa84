;; tier_dup.wat: two functions with identical bodies (their generated C is the same text), called
;; from the host and from a third function, for test_tier's check that one batch compiles both.
(module
  (func $a (export "twin_a") (param i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const 7)) (i32.const 3)))
  (func $b (export "twin_b") (param i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const 7)) (i32.const 3)))
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc)
          (i32.xor (call $a (local.get $i)) (call $b (i32.add (local.get $i) (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc)))
