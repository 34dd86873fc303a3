#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with a condition variable (pthreads), for the data plane's hand-overs between threads.
/// `@unchecked Sendable`: the pthread objects are made for sharing between threads; they live on the heap at a
/// fixed address for the lock's whole life.
public final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if os(Linux)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)    // timed waits immune to wall-clock steps
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits for `broadcast()`; call with the lock held.
    public func wait() { pthread_cond_wait(condition, mutex) }
    public func broadcast() { pthread_cond_broadcast(condition) }
    /// Waits for `broadcast()` or `microseconds`, whichever comes first; call with the lock held.
    public func wait(microseconds: Int64) {
        var now = timespec()
        #if os(Linux)
        clock_gettime(CLOCK_MONOTONIC, &now)
        #else
        clock_gettime(CLOCK_REALTIME, &now)
        #endif
        let nanoseconds = Int64(now.tv_nsec) + max(0, microseconds) * 1_000
        var deadline = timespec(tv_sec: now.tv_sec + Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        pthread_cond_timedwait(condition, mutex, &deadline)
    }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock(); defer { unlock() }
        return try body()
    }
}

/// Moves a value to another thread. `@unchecked Sendable`: the sender gives the value up when it wraps it
/// and only the receiving thread calls `take()`, so the value is never used by two threads.
public final class Handoff<Value>: @unchecked Sendable {
    private var value: Value?
    public init(_ value: Value) { self.value = value }
    public func take() -> Value {
        defer { value = nil }
        return value!
    }
}

/// Starts a detached OS thread (decoder workers and other data-plane loops that must not share the
/// cooperative pool), named `name` as `top`, `gdb` and crash reports show it (the first 15 bytes: the kernel's
/// limit). Throws when the system has no thread to give (then `body` never runs).
public func startThread(name: String, _ body: @escaping @Sendable () -> Void) throws(MediaError) {
    final class Box: @unchecked Sendable {   // handed to exactly one new thread, which releases it
        let body: @Sendable () -> Void
        let name: String
        init(_ body: @escaping @Sendable () -> Void, _ name: String) { self.body = body; self.name = name }
    }
    let box = Unmanaged.passRetained(Box(body, name)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 1 << 20)
    var thread = pthread_t()
    let created = pthread_create(&thread, &attributes, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        var name = Array(box.name.utf8.prefix(15))
        while !name.isEmpty, String(validating: name, as: UTF8.self) == nil { name.removeLast() }   // no half character
        _ = setThreadName?(pthread_self(), String(decoding: name, as: UTF8.self))
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    if created != 0 {
        Unmanaged<Box>.fromOpaque(box).release()
        throw MediaError(.resourceExhausted, "cannot start the \(name) thread (error \(created))")
    }
}

/// Runs blocking work (finalizing a file, opening an encoder, waiting for a thread) on a thread of its own and
/// resumes the caller when it is done, so Swift's cooperative pool never waits. When no thread can be had, the work
/// runs inline (slower to answer, but nothing is lost).
public func offPool<T: Sendable>(_ name: String, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        do {
            try startThread(name: name) { continuation.resume(returning: body()) }
        } catch {
            continuation.resume(returning: body())
        }
    }
}

/// `offPool` for work that throws.
public func offPool<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    let result: Result<T, any Error> = await offPool(name) { Result { try body() } }
    return try result.get()
}

/// glibc's `pthread_setname_np` (a GNU extension the Glibc module does not show: looked up once); elsewhere nil.
private let setThreadName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
}()

/// `String(format: "%.2f")` without Foundation: fixed decimals, rounded.
public func decimal(_ value: Double, _ places: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int64(scaled / scale)
    var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
    if places > 0 {
        let fraction = String(Int64(scaled) - whole * Int64(scale))
        text += "." + String(repeating: "0", count: places - fraction.count) + fraction
    }
    return text
}
