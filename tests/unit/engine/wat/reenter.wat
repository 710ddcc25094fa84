;; reenter.wat: a host function that calls back into the instance that called it
;; (tests/unit/engine/test_engine.c, host_reentry).
(module
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $depth (mut i32) (i32.const 0))
  ;; inner(x) = x + 100, and counts how deep the re-entry went in memory[0]
  (func $inner (export "inner") (param i32) (result i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.add (local.get 0) (i32.const 100)))
  ;; outer(x) = reenter(x) + 1 (the host calls inner or outer again)
  (func (export "outer") (param i32) (result i32)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (i32.add (call $reenter (local.get 0)) (i32.const 1)))
  (func (export "trap") (param i32) (result i32) unreachable)
  (func (export "depth") (result i32) (global.get $depth)))
