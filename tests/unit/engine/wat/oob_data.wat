;; oob_data.wat: a data segment past the end of memory: instantiation traps (test_engine.c)
(module
  (memory 1)
  (data (i32.const 65535) "xy"))
