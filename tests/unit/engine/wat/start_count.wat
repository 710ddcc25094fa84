;; start_count.wat: a start function that counts its runs (test_engine: deferred_start).
(module
  (global $runs (mut i32) (i32.const 0))
  (func $start (global.set $runs (i32.add (global.get $runs) (i32.const 1))))
  (start $start)
  (func (export "runs") (result i32) (global.get $runs)))
