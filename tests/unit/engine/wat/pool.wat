;; pool.wat: an instance that dirties its memory, for the instance-reuse test in test_engine.c
(module
  (memory 1 4)
  (data (i32.const 16) "hello")
  (func (export "read") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "write") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)
