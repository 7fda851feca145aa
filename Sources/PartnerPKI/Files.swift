#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A private key file: mode 0600 from the moment it exists, complete or absent (never half-written).
public enum SecretFile {
    public static let mode: mode_t = 0o600

    /// Writes through a temporary file in the same directory, then renames it over `path`.
    /// - Parameter replaceExisting: when false, an existing file at `path` is an error and stays untouched.
    public static func write(path: String, contents: String, replaceExisting: Bool = true) throws(PKIError) {
        try AtomicFile.write(path: path, bytes: Array(contents.utf8), mode: mode, replaceExisting: replaceExisting)
    }

    public static func write(path: String, bytes: [UInt8], replaceExisting: Bool = true) throws(PKIError) {
        try AtomicFile.write(path: path, bytes: bytes, mode: mode, replaceExisting: replaceExisting)
    }
}

/// A certificate or other public file: mode 0644, written the same atomic way as a secret.
public enum PublicFile {
    public static let mode: mode_t = 0o644

    public static func write(path: String, contents: String, replaceExisting: Bool = true) throws(PKIError) {
        try AtomicFile.write(path: path, bytes: Array(contents.utf8), mode: mode, replaceExisting: replaceExisting)
    }

    public static func write(path: String, bytes: [UInt8], replaceExisting: Bool = true) throws(PKIError) {
        try AtomicFile.write(path: path, bytes: bytes, mode: mode, replaceExisting: replaceExisting)
    }
}

/// Reads a whole file as text; errors name the path only.
public enum TextFile {
    public static func read(path: String) throws(PKIError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.failure("cannot open", path) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glue.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw AtomicFile.failure("cannot read", path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

enum AtomicFile {
    static func write(path: String, bytes: [UInt8], mode: mode_t, replaceExisting: Bool) throws(PKIError) {
        let (directory, name) = split(path)
        guard !name.isEmpty else { throw PKIError(.fileSystem, "no file name in path \(path)") }
        let temporary = "\(directory)/.\(name).tmp-\(randomSuffix())"

        // O_EXCL: the temporary name is ours alone; mode 0600/0644 applies at creation, so no other
        // process can open a secret in the window before a chmod.
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot create a temporary file for", path) }
        var done = false
        defer {
            if !done { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            // The umask may have removed bits the caller asked for (0644 under umask 077).
            guard fchmod(fd, mode) == 0 else { throw failure("cannot set the mode of", path) }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { raw in
                    Glue.write(fd, raw.baseAddress! + offset, raw.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("cannot write", path)
                }
                offset += written
            }
            guard fsync(fd) == 0 else { throw failure("cannot sync", path) }
        }
        if replaceExisting {
            guard rename(temporary, path) == 0 else { throw failure("cannot rename into place", path) }
        } else {
            // link() fails with EEXIST instead of replacing: "create only if absent", atomically.
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw PKIError(.fileSystem, "\(path) already exists") }
                throw failure("cannot link into place", path)
            }
            unlink(temporary)
        }
        done = true
        syncDirectory(directory)
    }

    /// Makes the rename itself durable. Best effort: some file systems refuse fsync on a directory.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 16)
    }

    static func failure(_ what: String, _ path: String) -> PKIError {
        let code = errno
        return PKIError(.fileSystem, "\(what) \(path): \(String(cString: strerror(code)))")
    }
}

/// The libc `read` and `write`, out of reach of the local names above.
enum Glue {
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.read(fd, buffer, count)
        #elseif canImport(Musl)
        return Musl.read(fd, buffer, count)
        #else
        return Darwin.read(fd, buffer, count)
        #endif
    }

    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, buffer, count)
        #elseif canImport(Musl)
        return Musl.write(fd, buffer, count)
        #else
        return Darwin.write(fd, buffer, count)
        #endif
    }
}
