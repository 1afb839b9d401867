"""Child registries of mmengine's, so configs name taskforget components without imports."""
from mmengine import registry as mm
from mmengine.registry import Registry

_LOCATIONS = [
    "taskforget.losses",
    "taskforget.methods",
    "taskforget.evaluation",
    "taskforget.datasets",
    "taskforget.engine",
    "taskforget.tasks.classification",
    "taskforget.tasks.segmentation",
    "taskforget.tasks.face",
    "taskforget.tasks.backdoor",
]

MODELS = Registry("model", parent=mm.MODELS, locations=_LOCATIONS)
DATASETS = Registry("dataset", parent=mm.DATASETS, locations=_LOCATIONS)
METRICS = Registry("metric", parent=mm.METRICS, locations=_LOCATIONS)
HOOKS = Registry("hook", parent=mm.HOOKS, locations=_LOCATIONS)
OPTIM_WRAPPERS = Registry("optim_wrapper", parent=mm.OPTIM_WRAPPERS, locations=_LOCATIONS)
# Registries taskforget adds nothing to; declared so the 'taskforget' scope resolves quietly.
DATA_SAMPLERS = Registry("data sampler", parent=mm.DATA_SAMPLERS)
FUNCTIONS = Registry("function", parent=mm.FUNCTIONS)
OPTIMIZERS = Registry("optimizer", parent=mm.OPTIMIZERS)
OPTIM_WRAPPER_CONSTRUCTORS = Registry("optimizer wrapper constructor",
                                      parent=mm.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = Registry("parameter scheduler", parent=mm.PARAM_SCHEDULERS)
LOOPS = Registry("loop", parent=mm.LOOPS)
LOG_PROCESSORS = Registry("log_processor", parent=mm.LOG_PROCESSORS)
VISBACKENDS = Registry("vis_backend", parent=mm.VISBACKENDS)
VISUALIZERS = Registry("visualizer", parent=mm.VISUALIZERS)
EVALUATOR = Registry("evaluator", parent=mm.EVALUATOR)
MODEL_WRAPPERS = Registry("model_wrapper", parent=mm.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = Registry("weight initializer", parent=mm.WEIGHT_INITIALIZERS)
TRANSFORMS = Registry("transform", parent=mm.TRANSFORMS)
