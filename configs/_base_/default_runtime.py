# Shared runtime: taskforget's registries, logging, seeding, hooks every stage uses.
default_scope = "taskforget"
randomness = dict(seed=0)
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0))
default_hooks = dict(
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=50),
    param_scheduler=dict(type="ParamSchedulerHook"),
    checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=1),
    sampler_seed=dict(type="DistSamplerSeedHook"),
)
custom_hooks = [dict(type="UnlearningSetupHook"), dict(type="FiniteLossHook"),
                dict(type="TrainTimeHook"), dict(type="EvalProgressHook")]
log_processor = dict(by_epoch=True, window_size=50)
log_level = "INFO"
load_from = None
resume = False
