;; oob_data_table.wat: an element segment fills an imported table, then a data segment past the end
;; of memory traps: the instance's function is in the table, so the engine keeps it (test_engine.c)
(module
  (import "env" "table" (table 1 1 funcref))
  (memory 1)
  (func $f)
  (elem (i32.const 0) $f)
  (data (i32.const 65535) "xy"))
