;; srv_table_grow.wat: a Compute guest that grows its funcref table until table.grow fails (1000
;; elements at a time, then one at a time), then asks for 2^28 more at once, and answers
;; "size=N big=R" (N: the table's final size, R: what the huge grow returned). The server's table
;; cap must stop it (tests/unit/server/test_table_cap.c); without one it reaches 64M elements.
(module
  (import "fastly_http_resp" "new" (func $resp_new (param i32) (result i32)))
  (import "fastly_http_body" "new" (func $body_new (param i32) (result i32)))
  (import "fastly_http_body" "write" (func $body_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_resp" "send_downstream" (func $send (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (data (i32.const 16) "size=")
  (data (i32.const 32) " big=-1")
  (data (i32.const 48) " big=BAD")
  ;; writes $v in decimal so that it ends at 96; returns where it starts
  (func $num (param $v i32) (result i32)
    (local $p i32)
    (local.set $p (i32.const 96))
    (loop $l
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $l (local.get $v)))
    (local.get $p))
  (func $write (param $ptr i32) (param $len i32)
    (drop (call $body_write (i32.load (i32.const 4)) (local.get $ptr) (local.get $len)
                            (i32.const 0) (i32.const 8))))
  (func (export "_start")
    (local $big i32) (local $p i32)
    (block $done
      (loop $l
        (br_if $done (i32.eq (table.grow $t (ref.null func) (i32.const 1000)) (i32.const -1)))
        (br $l)))
    (block $done1
      (loop $l1
        (br_if $done1 (i32.eq (table.grow $t (ref.null func) (i32.const 1)) (i32.const -1)))
        (br $l1)))
    (local.set $big (table.grow $t (ref.null func) (i32.const 0x10000000)))
    (drop (call $resp_new (i32.const 0)))
    (drop (call $body_new (i32.const 4)))
    (call $write (i32.const 16) (i32.const 5))
    (local.set $p (call $num (table.size $t)))
    (call $write (local.get $p) (i32.sub (i32.const 96) (local.get $p)))
    (call $write (select (i32.const 32) (i32.const 48) (i32.eq (local.get $big) (i32.const -1)))
                 (i32.const 7))
    (drop (call $send (i32.load (i32.const 0)) (i32.load (i32.const 4)) (i32.const 0)))))
