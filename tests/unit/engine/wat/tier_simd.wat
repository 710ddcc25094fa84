;; tier_simd.wat: a loop carrying v128 locals, run interpreted, forced native, and in auto mode
;; where the interpreter hands the running frame over to native code mid-loop
;; (test_native_gen_simd.c). tick(i) is the host: it returns i & 1 and waits for the compiler.
(module
  (import "env" "tick" (func $tick (param i32) (result i32)))
  (func $vloop (export "vloop") (param $n i32) (result i64)
    (local $i i32) (local $v v128) (local $w v128)
    (local.set $v (v128.const i32x4 1 2 3 4))
    (local.set $w (v128.const f32x4 0.5 -1.5 2.25 nan:0x200000))
    (loop $l
      (local.set $v
        (i32x4.add
          (i32x4.mul (local.get $v) (v128.const i32x4 3 5 7 9))
          (i32x4.splat (i32.add (local.get $i) (call $tick (local.get $i))))))
      (local.set $w
        (f32x4.add
          (f32x4.mul (local.get $w) (v128.const f32x4 0.75 0.75 0.75 0.75))
          (f32x4.convert_i32x4_s (i16x8.narrow_i32x4_s (local.get $v) (local.get $v)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.xor
      (i64.xor (i64x2.extract_lane 0 (local.get $v)) (i64x2.extract_lane 1 (local.get $v)))
      (i64.xor (i64x2.extract_lane 0 (local.get $w)) (i64x2.extract_lane 1 (local.get $w))))))
