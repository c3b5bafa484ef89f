;; demo-source: the `data-source` of `torvyn-sim demo`. It produces five
;; short lines of lower-case text, one per pull, then `none`.
;;
;; init(config): accepts any config, returns ok.
;; pull(): paused: err(unavailable("paused")); i < 5: allocate(len of line
;;   i), append line i, set-content-type "text/plain", freeze, drop the
;;   mutable handle, return ok(some({meta: {sequence: i, timestamp-ns: 0,
;;   content-type: "text/plain"}, payload})) and i += 1; i >= 5: ok(none).
;;   allocate/append failures: err(internal(...)) without advancing i.
;; notify-backpressure(pause) pauses, (ready) resumes.
;; teardown(): no-op.
;;
;; Memory layout (the conventions of fixtures/components/):
;;   0..16     return area for imported functions
;;   16..64    return area of the exported functions
;;   64..256   static strings
;;   256..512  the lines
;;   512..552  the line table: (ptr i32, len i32) per line
;;   1024..    heap of the bump allocator, reset when an export returns
(module
  ;; append: func(bytes: list<u8>) -> result<_, buffer-error>
  ;; writes to $ret: +0 u8 case (0 ok, 1 err), +4 buffer-error
  (import "torvyn:streaming/types@0.1.0" "[method]mutable-buffer.append"
    (func $mutable-buffer.append (param $self i32) (param $ptr i32) (param $len i32) (param $ret i32)))
  (import "torvyn:streaming/types@0.1.0" "[method]mutable-buffer.set-content-type"
    (func $mutable-buffer.set-content-type (param $self i32) (param $ptr i32) (param $len i32)))
  ;; freeze: func() -> buffer (self is borrowed; the handle stays ours to drop)
  (import "torvyn:streaming/types@0.1.0" "[method]mutable-buffer.freeze"
    (func $mutable-buffer.freeze (param $self i32) (result i32)))
  (import "torvyn:streaming/types@0.1.0" "[resource-drop]mutable-buffer"
    (func $drop-mutable-buffer (param i32)))
  ;; allocate: func(capacity-hint: u64) -> result<mutable-buffer, buffer-error>
  ;; writes to $ret: +0 u8 case (0 ok, 1 err), +4 handle (ok) | buffer-error (err)
  (import "torvyn:streaming/buffer-allocator@0.1.0" "allocate"
    (func $allocate (param $capacity-hint i64) (param $ret i32)))

  (memory (export "memory") 1)

  (data (i32.const 64) "text/plain") ;; 10 bytes
  (data (i32.const 80) "paused") ;; 6 bytes
  (data (i32.const 96) "allocate failed") ;; 15 bytes
  (data (i32.const 112) "append failed") ;; 13 bytes

  (data (i32.const 256) "hello from torvyn") ;; 17 bytes
  (data (i32.const 280) "every element is pulled, processed and pushed") ;; 45 bytes
  (data (i32.const 328) "payloads live in host buffers") ;; 29 bytes
  (data (i32.const 360) "the sink asks for a pause now and then") ;; 38 bytes
  (data (i32.const 400) "same seed, same transcript") ;; 26 bytes
  ;; (256, 17) (280, 45) (328, 29) (360, 38) (400, 26), little-endian
  (data (i32.const 512) "\00\01\00\00\11\00\00\00\18\01\00\00\2d\00\00\00\48\01\00\00\1d\00\00\00\68\01\00\00\26\00\00\00\90\01\00\00\1a\00\00\00")

  ;; ---- bump allocator -------------------------------------------------
  (global $heap (mut i32) (i32.const 1024))

  (func $cabi_realloc (export "cabi_realloc")
      (param $old-ptr i32) (param $old-size i32) (param $align i32) (param $new-size i32)
      (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $new-size)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.shr_u
                  (i32.add
                    (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16)))
                    (i32.const 0xffff))
                  (i32.const 16)))
              (i32.const -1))
          (then unreachable))))
    (if (local.get $old-ptr)
      (then
        (memory.copy (local.get $ptr) (local.get $old-ptr)
          (select (local.get $old-size) (local.get $new-size)
            (i32.lt_u (local.get $old-size) (local.get $new-size))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  (func $reset-heap
    (global.set $heap (i32.const 1024)))

  ;; ---- results of `pull` -------------------------------------------------
  ;; result<option<output-element>, process-error> at 16:
  ;;   +0 u8 result case (0 ok, 1 err)
  ;;   ok:  +8 u8 option case (0 none, 1 some); some: output-element at +16:
  ;;        +16 meta.sequence u64, +24 meta.timestamp-ns u64,
  ;;        +32 meta.content-type ptr, +36 len, +40 payload handle (own<buffer>)
  ;;   err: +8 u8 process-error case, +12 string ptr, +16 string len
  (func $ok-some (param $seq i64) (param $payload i32) (result i32)
    (i32.store8 offset=0 (i32.const 16) (i32.const 0))
    (i32.store8 offset=8 (i32.const 16) (i32.const 1))
    (i64.store offset=16 (i32.const 16) (local.get $seq))
    (i64.store offset=24 (i32.const 16) (i64.const 0))
    (i32.store offset=32 (i32.const 16) (i32.const 64))
    (i32.store offset=36 (i32.const 16) (i32.const 10))
    (i32.store offset=40 (i32.const 16) (local.get $payload))
    (call $reset-heap)
    (i32.const 16))

  (func $ok-none (result i32)
    (i32.store8 offset=0 (i32.const 16) (i32.const 0))
    (i32.store8 offset=8 (i32.const 16) (i32.const 0))
    (call $reset-heap)
    (i32.const 16))

  ;; cases: 0 invalid-input, 1 unavailable, 2 internal, 3 deadline-exceeded, 4 fatal
  (func $err (param $case i32) (param $ptr i32) (param $len i32) (result i32)
    (i32.store8 offset=0 (i32.const 16) (i32.const 1))
    (i32.store8 offset=8 (i32.const 16) (local.get $case))
    (i32.store offset=12 (i32.const 16) (local.get $ptr))
    (i32.store offset=16 (i32.const 16) (local.get $len))
    (call $reset-heap)
    (i32.const 16))

  ;; ---- state ----------------------------------------------------------------
  (global $next (mut i32) (i32.const 0))
  (global $paused (mut i32) (i32.const 0))

  ;; ---- lifecycle ----------------------------------------------------------
  ;; init: func(config: string) -> result<_, process-error>; always ok(())
  (func (export "torvyn:streaming/lifecycle@0.1.0#init")
      (param $ptr i32) (param $len i32) (result i32)
    (i32.store8 offset=0 (i32.const 16) (i32.const 0))
    (call $reset-heap)
    (i32.const 16))

  (func (export "torvyn:streaming/lifecycle@0.1.0#teardown"))

  ;; ---- source ---------------------------------------------------------------
  ;; notify-backpressure: func(signal: backpressure-signal); 0 ready, 1 pause
  (func (export "torvyn:streaming/source@0.1.0#notify-backpressure") (param $signal i32)
    (global.set $paused (i32.eq (local.get $signal) (i32.const 1))))

  ;; pull: func() -> result<option<output-element>, process-error>
  (func (export "torvyn:streaming/source@0.1.0#pull") (result i32)
    (local $entry i32) (local $mutable i32) (local $frozen i32)
    (if (global.get $paused)
      (then (return (call $err (i32.const 1) (i32.const 80) (i32.const 6)))))
    (if (i32.ge_u (global.get $next) (i32.const 5))
      (then (return (call $ok-none))))
    (local.set $entry (i32.add (i32.const 512) (i32.shl (global.get $next) (i32.const 3))))
    (call $allocate (i64.extend_i32_u (i32.load offset=4 (local.get $entry))) (i32.const 0))
    (if (i32.load8_u (i32.const 0))
      (then (return (call $err (i32.const 2) (i32.const 96) (i32.const 15)))))
    (local.set $mutable (i32.load offset=4 (i32.const 0)))
    (call $mutable-buffer.append (local.get $mutable)
      (i32.load (local.get $entry)) (i32.load offset=4 (local.get $entry)) (i32.const 0))
    (if (i32.load8_u (i32.const 0))
      (then
        (call $drop-mutable-buffer (local.get $mutable))
        (return (call $err (i32.const 2) (i32.const 112) (i32.const 13)))))
    (call $mutable-buffer.set-content-type (local.get $mutable) (i32.const 64) (i32.const 10))
    (local.set $frozen (call $mutable-buffer.freeze (local.get $mutable)))
    (call $drop-mutable-buffer (local.get $mutable))
    (global.set $next (i32.add (global.get $next) (i32.const 1)))
    (call $ok-some (i64.extend_i32_u (i32.sub (global.get $next) (i32.const 1))) (local.get $frozen)))
)
