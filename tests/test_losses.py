import math

import pytest
import torch

from taskforget.losses import MaskedDistillationLoss, masked_distillation_loss, masked_target


def test_loss_matches_hand_computed_value():
    # teacher logits (1, 2, 3), forget class 2 -> target = softmax(1, 2) on classes 0, 1.
    teacher = torch.tensor([[1.0, 2.0, 3.0]])
    student = torch.zeros(1, 3)
    mask = torch.tensor([[False, False, True]])
    p0 = math.exp(1) / (math.exp(1) + math.exp(2))
    p1 = 1 - p0
    expected = p0 * math.log(p0 / (1 / 3)) + p1 * math.log(p1 / (1 / 3))
    assert masked_distillation_loss(student, teacher, mask).item() == pytest.approx(expected,
                                                                                   rel=1e-6)
    target = masked_target(teacher, mask)
    assert target.tolist()[0] == pytest.approx([p0, p1, 0.0], rel=1e-6)


def test_gradient_is_student_prob_minus_target_over_batch():
    teacher = torch.randn(4, 5)
    student = torch.randn(4, 5, requires_grad=True)
    mask = torch.zeros(1, 5, dtype=torch.bool)
    mask[0, 1] = True
    masked_distillation_loss(student, teacher, mask).backward()
    expected = (torch.softmax(student.detach(), 1) - masked_target(teacher, mask.expand(4, 5))) / 4
    torch.testing.assert_close(student.grad, expected)


def test_dense_logits_equal_their_flattened_form():
    teacher, student = torch.randn(2, 4, 3, 5), torch.randn(2, 4, 3, 5)
    mask = torch.tensor([False, True, False, False]).view(1, 4, 1, 1)
    dense = masked_distillation_loss(student, teacher, mask)
    flat = masked_distillation_loss(student.permute(0, 2, 3, 1).reshape(-1, 4),
                                    teacher.permute(0, 2, 3, 1).reshape(-1, 4), mask.view(1, 4))
    torch.testing.assert_close(dense, flat)
    per_pixel = masked_distillation_loss(student, teacher, mask, reduction="none")
    assert per_pixel.shape == (2, 3, 5)
    torch.testing.assert_close(per_pixel.mean(), dense)


def test_ignored_positions_get_zero_gradient_and_do_not_count():
    teacher = torch.randn(2, 3, 4, 4)
    student = torch.randn(2, 3, 4, 4, requires_grad=True)
    valid = torch.ones(2, 4, 4, dtype=torch.bool)
    valid[0, :2] = False
    mask = torch.tensor([True, False, False]).view(1, 3, 1, 1)
    loss = masked_distillation_loss(student, teacher, mask, valid=valid)
    loss.backward()
    assert student.grad[0, :, :2].abs().max() == 0
    assert student.grad[0, :, 2:].abs().max() > 0
    per_pixel = masked_distillation_loss(student, teacher, mask, reduction="none")
    torch.testing.assert_close(loss, per_pixel[valid].mean())


def test_every_forgotten_class_is_masked_per_sample_or_per_position():
    teacher = torch.tensor([[5.0, 4.0, 1.0, 0.0]])
    target = masked_target(teacher, torch.tensor([[True, True, False, False]]))
    assert target[0, :2].tolist() == [0.0, 0.0]
    assert target[0, 2].item() == pytest.approx(math.e / (math.e + 1), rel=1e-6)
    # per-position masks: each row its own erased class
    rows = masked_target(torch.zeros(2, 3), torch.eye(3, dtype=torch.bool)[:2])
    assert rows.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]


def test_alpha_keeps_a_share_of_the_forgotten_class():
    teacher = torch.tensor([[2.0, 1.0, 0.0]])
    mask = torch.tensor([[True, False, False]])
    p = torch.softmax(teacher, 1)[0]
    for alpha in (0.25, 0.5):
        target = masked_target(teacher, mask, alpha=alpha)[0]
        assert target[0].item() == pytest.approx(alpha * p[0].item(), rel=1e-6)
        assert target.sum().item() == pytest.approx(1.0, rel=1e-6)
        # the remaining classes keep the teacher's proportions
        assert (target[1] / target[2]).item() == pytest.approx((p[1] / p[2]).item(), rel=1e-5)
    torch.testing.assert_close(masked_target(teacher, mask, alpha=1.0)[0], p)


def test_temperature_flattens_the_retained_distribution():
    teacher = torch.tensor([[0.0, 3.0, 1.0, 0.0]])
    mask = torch.tensor([[True, False, False, False]])
    t1, t10 = masked_target(teacher, mask, 1.0), masked_target(teacher, mask, 10.0)
    expected_t10 = torch.softmax(teacher[0, 1:] / 10, 0)
    torch.testing.assert_close(t10[0, 1:], expected_t10)
    assert t10[0, 1] < t1[0, 1]  # flatter
    assert t10[0, 0] == 0


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_and_extreme_teachers_give_no_nan(dtype):
    # the teacher is certain of the forgotten class: a naive probability-space mask
    # would divide 0 by 0.
    teacher = torch.tensor([[1000.0, -1000.0, -1000.0], [60000.0, 0.0, -60000.0]]).to(dtype)
    student = torch.randn(2, 3).to(dtype).requires_grad_()
    mask = torch.tensor([[True, False, False]])
    loss = masked_distillation_loss(student, teacher, mask)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(student.grad).all()
    assert masked_target(teacher, mask)[0].tolist() == [0.0, 0.5, 0.5]


def test_fully_masked_positions_are_left_out_not_nan():
    teacher, student = torch.randn(2, 2), torch.randn(2, 2, requires_grad=True)
    mask = torch.tensor([[True, True], [True, False]])
    loss = masked_distillation_loss(student, teacher, mask)
    loss.backward()
    assert torch.isfinite(loss)
    only_second = masked_distillation_loss(student[1:], teacher[1:], mask[1:])
    torch.testing.assert_close(loss, only_second)
    assert student.grad[0].abs().max() == 0


def test_module_validates_its_knobs():
    with pytest.raises(ValueError, match="alpha"):
        MaskedDistillationLoss(alpha=1.5)
    with pytest.raises(ValueError, match="temperature"):
        MaskedDistillationLoss(temperature=0)
    with pytest.raises(ValueError, match="same shape"):
        masked_distillation_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(1, 3).bool())
