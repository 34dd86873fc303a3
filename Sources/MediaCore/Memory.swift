#if canImport(Glibc)
import Glibc
#endif

/// Hands memory freed by a finished recording (encoder lookahead, frame pools: ~200 MB at 720p) back to the system.
/// glibc keeps freed blocks in its arenas for reuse, so a server that ran many rooms would otherwise keep the RSS
/// of its busiest moment. `malloc_trim` is glibc's (not in the Glibc module: looked up once); elsewhere a no-op.
public func releaseFreedMemory() {
    #if canImport(Glibc)
    if let trim = mallocTrim { _ = trim(0) }
    #endif
}

#if canImport(Glibc)
private let mallocTrim: (@convention(c) (Int) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
}()
#endif
