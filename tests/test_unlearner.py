import torch

from taskforget.methods import DELETE


def make_delete(**kwargs):
    return DELETE(network=dict(type="resnet8", num_classes=3),
                  adapter=dict(type="ClassificationAdapter", class_names=("a", "b", "c"),
                               forget_classes=["b"]), **kwargs)


def batch(n=4):
    return torch.randn(n, 3, 16, 16), dict(label=torch.tensor([1] * n), uid=torch.arange(n),
                                           is_train=torch.ones(n, dtype=torch.bool))


def test_teacher_is_frozen_and_stays_in_eval_mode():
    model = make_delete().train()
    assert model.student.training and not model.teacher.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    inputs, samples = batch()
    model(inputs, samples, mode="loss")["loss_delete"].backward()
    assert all(p.grad is None for p in model.teacher.parameters())


def test_cached_teacher_logits_equal_fresh_ones_and_skip_the_teacher():
    model = make_delete().train()
    calls = []
    model.teacher.register_forward_hook(lambda *_: calls.append(1))
    inputs, samples = batch()
    fresh = model.teacher_logits(inputs, samples)
    model.cache_teacher_logits = True
    first = model.teacher_logits(inputs, samples)
    second = model.teacher_logits(inputs[[2, 0]], {"uid": samples["uid"][[2, 0]]})
    assert len(calls) == 2  # the fresh call and the one that filled the cache
    torch.testing.assert_close(first, fresh)
    torch.testing.assert_close(second, fresh[[2, 0]])


def test_norm_eval_keeps_batch_norm_statistics():
    model = make_delete(norm_eval=True).train()
    bn = next(m for m in model.student.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = bn.running_mean.clone()
    inputs, samples = batch()
    model(inputs * 5 + 3, samples, mode="loss")
    assert not bn.training and torch.equal(bn.running_mean, before)


def test_predictions_carry_the_original_models():
    model = make_delete().eval()
    inputs, samples = batch(2)
    out = model(inputs, samples, mode="predict")
    assert len(out) == 2 and out[0]["is_forget"] and set(out[0]["original"]) == set(out[0]) - {
        "original"}


def test_the_original_evaluated_as_itself_costs_one_forward_pass():
    """A student holding the reference's weights lends its predictions as the original's; one
    step of training later the reference runs again, and its predictions are its own."""
    model = make_delete().eval()
    calls = []
    model.reference.register_forward_hook(lambda *_: calls.append(1))
    inputs, samples = batch(3)
    out = model(inputs, samples, mode="predict")
    assert calls == [] and all(o["original"] == {k: v for k, v in o.items() if k != "original"}
                               for o in out)
    with torch.no_grad():
        next(model.student.parameters()).add_(0.5)
    model._teacher_predictions.clear()
    out = model(inputs, samples, mode="predict")
    assert calls == [1]
    by_hand = model.adapter.predict(model.reference(inputs), samples)
    assert [o["original"]["prob_true"] for o in out] == [r["prob_true"] for r in by_hand]
    assert all(o["original"]["prob_true"] != o["prob_true"] for o in out)
