;; tier_mem.wat: memory bounds in native code (test_tier.c): accesses at the edge of memory with
;; small and huge static offsets, a trap after a store (the store stays visible), and memory.grow
;; inside a loop, directly and through a call, so the size native code caches must be refreshed
(module
  (memory 1 8)
  (func (export "ld8") (param i32) (result i32) (i32.wrap_i64 (i64.load (local.get 0))))
  (func (export "ld_off") (param i32) (result i32) (i32.load8_u offset=65535 (local.get 0)))
  (func (export "ld_big") (param i32) (result i32) (i32.load offset=4294967295 (local.get 0)))
  (func (export "st16") (param i32) (param i32)
    (i32.store16 offset=2 (local.get 0) (local.get 1)))
  (func (export "st_then_trap") (param i32) (result i32)
    (i32.store (i32.const 0) (i32.const 7))
    (i32.load (local.get 0)))
  ;; constant addresses: below the declared minimum the C compiler may drop the check
  (func (export "edge_ok") (result i32) (i32.load (i32.const 65532)))
  (func (export "edge_trap") (result i32) (i32.load (i32.const 65533)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  ;; each iteration grows by a page and stores at the new top; a failed grow traps the store
  (func (export "grow_loop") (param $n i32) (result i32)
    (local $i i32) (local $top i32)
    (loop $l
      (local.set $top (i32.mul (i32.add (memory.size) (i32.const 1)) (i32.const 65536)))
      (drop (memory.grow (i32.const 1)))
      (i32.store (i32.sub (local.get $top) (i32.const 4)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (memory.size))
  (func $grow1 (drop (memory.grow (i32.const 1))))
  ;; the same with the grow in a callee: the caller's cached size must follow
  (func (export "grow_call_loop") (param $n i32) (result i32)
    (local $i i32) (local $top i32)
    (loop $l
      (local.set $top (i32.mul (i32.add (memory.size) (i32.const 1)) (i32.const 65536)))
      (call $grow1)
      (i32.store8 (i32.sub (local.get $top) (i32.const 1)) (i32.const 9))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.load8_u (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1))))
)
