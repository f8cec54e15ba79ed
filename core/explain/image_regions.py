"""Image regions for SHAP: superpixels that follow the picture's edges, and a tree over them.

Why: shap's Image masker treats every pixel and channel as a feature (150,528 of them for a
224-px crop) and splits the image into axis-aligned halves, so ``max_evals`` model calls only
reach a coarse grid of rectangles (about 8 x 8), cutting across the objects in the picture.
Here the features are ~150 superpixels (``superpixels``: SLIC, k-means on CIELAB colour and
position in local windows), grouped by a balanced spatial tree (``region_tree``: halve the set of
region centres along its longer side, recursively). shap's Partition explainer then refines this
tree as it refines its own, only over regions that follow edges.

The model function SHAP calls (``RegionImages``) turns a row of region switches (1: shown,
0: hidden) into the picture with the hidden regions replaced by the background (a blurred copy
or the mean colour), exactly as shap's Image masker blends an image with its background.

Everything here is deterministic: the segmentation of a crop is recomputed on a cache hit, so
neither the pixels nor the region outlines are ever stored.
"""

from __future__ import annotations

import numpy as np

DEFAULT_REGIONS = 150  # about 12 x 12 superpixels (18 px across on a 224-px crop)
MIN_PIXELS_PER_REGION = 16

_RGB_TO_XYZ = np.array([[0.412453, 0.357580, 0.180423],
                        [0.212671, 0.715160, 0.072169],
                        [0.019334, 0.119193, 0.950227]])
_WHITE = np.array([0.950456, 1.0, 1.088754])


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB (H, W, 3) -> CIELAB (D65), float32."""
    c = np.asarray(rgb, dtype=np.float32) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = (c @ _RGB_TO_XYZ.T.astype(np.float32)) / _WHITE.astype(np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    lab = np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]),
                    200.0 * (f[..., 1] - f[..., 2])], axis=-1)
    return lab.astype(np.float32)


def superpixels(image: np.ndarray, regions: int = DEFAULT_REGIONS, compactness: float = 12.0,
                iterations: int = 6) -> np.ndarray:
    """(H, W) int labels 0..M-1 of about ``regions`` connected superpixels (SLIC).

    Each pixel joins the nearest centre within twice the grid step, by colour distance plus
    ``compactness`` times the spatial distance in grid steps; centres move to their pixels' means.
    Fragments smaller than a quarter of a cell are merged into a neighbour afterwards."""
    image = np.asarray(image)
    h, w = image.shape[:2]
    wanted = int(max(2, min(int(regions), (h * w) // MIN_PIXELS_PER_REGION)))
    step = max(1.0, float(np.sqrt(h * w / wanted)))
    lab = to_lab(image[..., :3] if image.ndim == 3 else np.repeat(image[..., None], 3, -1))
    ys = np.arange(step / 2, h, step)
    xs = np.arange(step / 2, w, step)
    cy, cx = np.meshgrid(ys, xs, indexing="ij")
    cy, cx = cy.ravel(), cx.ravel()
    colours = lab[cy.astype(int), cx.astype(int)]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    weight = (compactness / step) ** 2
    radius = int(np.ceil(step * 1.5))
    labels = np.zeros((h, w), dtype=np.int64)
    for _ in range(iterations):
        best = np.full((h, w), np.inf, dtype=np.float32)
        for k in range(len(cy)):
            y0, y1 = max(0, int(cy[k]) - radius), min(h, int(cy[k]) + radius + 1)
            x0, x1 = max(0, int(cx[k]) - radius), min(w, int(cx[k]) + radius + 1)
            patch = lab[y0:y1, x0:x1] - colours[k]
            d = (patch * patch).sum(-1) + weight * ((yy[y0:y1, x0:x1] - cy[k]) ** 2
                                                    + (xx[y0:y1, x0:x1] - cx[k]) ** 2)
            closer = d < best[y0:y1, x0:x1]
            best[y0:y1, x0:x1][closer] = d[closer]
            labels[y0:y1, x0:x1][closer] = k
        counts = np.bincount(labels.ravel(), minlength=len(cy)).astype(np.float64)
        keep = counts > 0
        for axis, centre in ((yy, cy), (xx, cx)):
            sums = np.bincount(labels.ravel(), weights=axis.ravel(), minlength=len(cy))
            centre[keep] = sums[keep] / counts[keep]
        for ch in range(3):
            sums = np.bincount(labels.ravel(), weights=lab[..., ch].ravel(), minlength=len(cy))
            colours[keep, ch] = sums[keep] / counts[keep]
    return _connected(labels, max(1, int(step * step / 4)))


def _connected(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Split labels into connected pieces, merge pieces under ``min_size`` pixels into the
    neighbour they share the longest border with, and number the result 0..M-1."""
    from scipy import ndimage

    h, w = labels.shape
    pieces = np.full(labels.shape, -1, dtype=np.int64)
    count = 0
    for value, box in enumerate(ndimage.find_objects(labels + 1)):
        if box is None:
            continue
        found, n = ndimage.label(labels[box] == value)
        pieces[box][found > 0] = found[found > 0] - 1 + count
        count += n
    sizes = np.bincount(pieces.ravel(), minlength=count)
    boxes = ndimage.find_objects(pieces + 1)
    for piece in np.argsort(sizes, kind="stable"):
        if sizes[piece] >= min_size or sizes[piece] == 0 or (sizes > 0).sum() <= 2:
            continue
        ys, xs = boxes[piece]
        box = (slice(max(0, ys.start - 1), min(h, ys.stop + 1)),
               slice(max(0, xs.start - 1), min(w, xs.stop + 1)))
        inside = pieces[box] == piece
        ring = ndimage.binary_dilation(inside) & ~inside
        neighbours = pieces[box][ring]
        if neighbours.size == 0:
            continue
        target = int(np.bincount(neighbours).argmax())
        pieces[box][inside] = target
        sizes[target] += sizes[piece]
        sizes[piece] = 0
        ty, tx = boxes[target]
        boxes[target] = (slice(min(ty.start, ys.start), max(ty.stop, ys.stop)),
                         slice(min(tx.start, xs.start), max(tx.stop, xs.stop)))
    _, compact = np.unique(pieces, return_inverse=True)
    return compact.reshape(labels.shape).astype(np.int64)


def region_tree(segments: np.ndarray) -> np.ndarray:
    """A balanced binary tree over the regions as a linkage matrix (M-1, 4), scipy's layout:
    [left, right, distance, leaves]. Each split halves a set of regions along the longer side of
    its centres' spread, so every node is a compact patch and the depth is about log2(M)."""
    segments = np.asarray(segments)
    m = int(segments.max()) + 1
    counts = np.maximum(np.bincount(segments.ravel(), minlength=m), 1)
    yy, xx = np.mgrid[0:segments.shape[0], 0:segments.shape[1]]
    centres = np.stack([np.bincount(segments.ravel(), weights=yy.ravel(), minlength=m) / counts,
                        np.bincount(segments.ravel(), weights=xx.ravel(), minlength=m) / counts], 1)
    rows: list[list[float]] = []

    def build(ids: np.ndarray) -> tuple[int, int]:  # (node id, height)
        if len(ids) == 1:
            return int(ids[0]), 0
        spread = centres[ids].max(axis=0) - centres[ids].min(axis=0)
        axis = int(np.argmax(spread))
        order = ids[np.lexsort((centres[ids, 1 - axis], centres[ids, axis]))]
        half = len(order) // 2
        left, lh = build(order[:half])
        right, rh = build(order[half:])
        height = max(lh, rh) + 1
        rows.append([left, right, float(height), float(len(ids))])
        return m + len(rows) - 1, height

    build(np.arange(m))
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


class RegionImages:
    """Region switches (n, M) -> images (n, H, W, 3): shown regions keep the image's pixels,
    hidden ones take the background's (shap's Image masker blend, per region)."""

    def __init__(self, image: np.ndarray, background: np.ndarray, segments: np.ndarray) -> None:
        self.image = np.asarray(image, dtype=np.float32)
        self.background = np.asarray(background, dtype=np.float32)
        self.segments = np.asarray(segments)
        self.regions = int(self.segments.max()) + 1

    def __call__(self, switches: np.ndarray) -> np.ndarray:
        z = np.asarray(switches).reshape(-1, self.regions) > 0.5
        shown = z[:, self.segments][..., None]  # (n, H, W, 1)
        return np.where(shown, self.image[None], self.background[None])
