import FuzzSupport
import WireProtocol

// Properties of `JSONValue.parse` on any bytes:
// - it never crashes, and a refusal names an offset inside the input;
// - what it accepts nests at most `WireLimits.maximumJSONNestingDepth` deep;
// - parse → encode → parse gives an equal value, and encoding that again gives the same bytes
//   (the canonical encoding is a fixed point: stored responses are embedded unchanged);
// - the nesting bound is exact: the accepted value wrapped up to the bound is accepted, one level
//   more is refused as `.nestingTooDeep`.

/// How deeply arrays and objects nest in a value (a scalar is 0).
func nestingDepth(_ value: JSONValue) -> Int {
    switch value {
    case .array(let elements): return 1 + (elements.map(nestingDepth).max() ?? 0)
    case .object(let members): return 1 + (members.map { nestingDepth($0.1) }.max() ?? 0)
    default: return 0
    }
}

/// `levels` arrays around an encoded value.
func wrapped(_ encoded: [UInt8], levels: Int) -> [UInt8] {
    [UInt8](repeating: UInt8(ascii: "["), count: levels) + encoded + [UInt8](repeating: UInt8(ascii: "]"), count: levels)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    let value: JSONValue
    do {
        value = try JSONValue.parse(input)
    } catch {
        fuzzCheck((0...size).contains(error.offset), "refusal offset \(error.offset) outside 0...\(size)")
        return 0
    }
    let depth = nestingDepth(value)
    fuzzCheck(depth <= WireLimits.maximumJSONNestingDepth, "accepted a value nested \(depth) deep")

    let encoded = value.encoded()
    let reparsed: JSONValue
    do {
        reparsed = try JSONValue.parse(encoded)
    } catch {
        fuzzCheck(false, "its own encoding \(String(decoding: encoded, as: UTF8.self)) does not parse: \(error)")
        return 0
    }
    fuzzCheck(reparsed == value, "parse(encode(v)) != v for \(String(decoding: encoded, as: UTF8.self))")
    fuzzCheck(reparsed.encoded() == encoded, "the encoding of \(String(decoding: encoded, as: UTF8.self)) is not stable")

    let room = WireLimits.maximumJSONNestingDepth - depth
    let atTheBound = wrapped(encoded, levels: room)
    fuzzCheck((try? JSONValue.parse(atTheBound)) != nil, "refused at depth \(WireLimits.maximumJSONNestingDepth)")
    do {
        _ = try JSONValue.parse(wrapped(encoded, levels: room + 1))
        fuzzCheck(false, "accepted depth \(WireLimits.maximumJSONNestingDepth + 1)")
    } catch {
        fuzzCheck(error.reason == .nestingTooDeep, "depth \(WireLimits.maximumJSONNestingDepth + 1) refused as \(error), not as too deep")
    }
    return 0
}

@main
struct FuzzJSONMain {
    static func main() { runLibFuzzer(fuzzJSON) }
}
