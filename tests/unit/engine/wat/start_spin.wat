;; start_spin.wat: a start function that never returns; also a valid (empty) Compute guest, so the
;; server tests can check that the CPU deadline covers the start function (test_engine,
;; test_hostile).
(module
  (memory (export "memory") 1)
  (func $spin (loop $l (br $l)))
  (start $spin)
  (func (export "_start")))
