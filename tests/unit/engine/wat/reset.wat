;; reset.wat: a 160-page (10 MiB) memory with data at both ends, for the tests of how a pooled
;; memory is reset (test_engine.c): writes anywhere, a read-only pass, and a write to every page
(module
  (memory 160 200)
  (data (i32.const 100) "head")
  (data (i32.const 1048676) "middle")
  (func (export "read") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "write") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  ;; sum of one byte per 4 KiB page from 0 to the end of memory (touches every page, reads only)
  (func (export "sum_pages") (result i32)
    (local $a i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (i32.mul (memory.size) (i32.const 65536))))
        (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 4096)))
        (br $next)))
    (local.get $s))
  ;; writes `v` into byte 7 of every 4 KiB page
  (func (export "fill_pages") (param $v i32)
    (local $a i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (i32.mul (memory.size) (i32.const 65536))))
        (i32.store8 offset=7 (local.get $a) (local.get $v))
        (local.set $a (i32.add (local.get $a) (i32.const 4096)))
        (br $next))))
)
