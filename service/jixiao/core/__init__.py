"""The pure core: pack model, loader, compiler and evaluator. No I/O, no gRPC, no clock."""
