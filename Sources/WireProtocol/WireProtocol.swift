// WireProtocol: the framing, the messages and the codes of the socket protocol that partner
// terminals and online-payment partners speak (contract §3; in the project's words: protocol/wire.md).
//
//   Framing.swift       4-byte big-endian length + one JSON object, as NIO handlers
//   JSONValue.swift     the JSON values the protocol carries, and their one canonical encoding
//   JSONParser.swift    a small, bounded, strict JSON parser (bytes -> JSONValue)
//   Request.swift       a well-formed request: its type, body, stan and content fingerprint
//   RequestParser.swift one frame's bytes -> a request, or the code it must be answered with
//   Response.swift      a response: encoding to bytes and decoding stored bytes back
//
// Only Framing.swift and ByteBuffer+Wire.swift import NIOCore; the rest is plain Swift over bytes.

/// The limits of the messages, each with its unit. Framing limits are in `FrameLimits`.
public enum WireLimits {
    /// A request's `id`: a string of 1 to 64 characters (Unicode scalars), echoed back.
    public static let maximumIdCharacters = 64
    /// A `stan` (and a `reverse`'s or `status`'s `of`): 1 to 12 characters from `[0-9A-Za-z-]`.
    public static let maximumStanCharacters = 12
    /// A `cancel`'s `txn`: 1 to 64 characters (Unicode scalars).
    public static let maximumTxnCharacters = 64
    /// A voucher `code` as sent: 1 to 64 characters (Unicode scalars), before normalisation.
    public static let maximumVoucherCodeCharacters = 64
    /// An unknown `type` is echoed in its `12` response only up to 64 characters (Unicode scalars), so
    /// that the response always fits a frame; a longer one is answered with type `"error"`.
    public static let maximumEchoedTypeCharacters = 64
    /// How deeply arrays and objects may nest in one frame (the parser is recursive).
    public static let maximumJSONNestingDepth = 32
    /// A card's `un` (unpredictable number): 4 bytes as 8 hex digits.
    public static let unpredictableNumberHexDigits = 8
    /// A card's `cryptogram`: 8 bytes as 16 hex digits.
    public static let cryptogramHexDigits = 16
    /// The only currency: euro.
    public static let currency = "EUR"
}
