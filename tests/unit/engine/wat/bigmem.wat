;; bigmem.wat: a module whose initial memory (16 pages) is larger than a host cap can allow
;; (tests/unit/engine/test_engine.c, memory_cap_covers_the_initial_size).
(module
  (memory (export "memory") 16)
  (data (i32.const 0) "x")
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
