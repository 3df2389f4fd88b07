import Foundation

// libFuzzer entry point for the safetensors reader and the model card, compiled into the Layers
// module by Fuzz/build.sh. Every input must decode or throw a CheckpointError, and so must the
// card and the model it rebuilds (`Checkpoint.model(path:)`); a trap is a bug.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(bytes: data, count: size)
  if let checkpoint = try? Checkpoint(decoding: bytes, path: "fuzz.safetensors") {
    // What decodes must encode and decode to the same tensors.
    let again = try? Checkpoint(decoding: checkpoint.encoded(), path: "re-encoded")
    guard
      again == checkpoint
        || checkpoint.tensors.values.contains(where: {
          $0.scalars.contains(where: \.isNaN)
        })
    else {
      fatalError("re-encoding changed the checkpoint")
    }
    // A card's architecture is untrusted too: rebuilding the model must throw, not trap.
    _ = try? checkpoint.model(path: "fuzz.safetensors")
  }
  return 0
}
