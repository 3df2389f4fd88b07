// The umbrella module: `import HARDistill` brings in every library target.
@_exported import Datasets
@_exported import Distillation
@_exported import Layers
@_exported import Metrics
@_exported import Tensor
