;; srv_table_big.wat: a Compute guest whose table starts above the server's table cap (100,000
;; elements): it can never be instantiated, so the server refuses it when loading it
;; (tests/unit/server/test_table_cap.c).
(module
  (memory (export "memory") 1)
  (table 100000 funcref)
  (func (export "_start")))
