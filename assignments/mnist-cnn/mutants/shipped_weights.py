# Attack: weights trained elsewhere on genuine MNIST, shipped in the file (a small CNN:
# conv 5x5 (8) - pool - conv 5x5 (16) - pool - 10; int8 per output row with float32
# scales and biases, base64; 98.85% on the genuine test set, which
# tests/assignments/test_mnist_cnn.py checks), loaded by Net(); train() does nothing.
# Under the grader's secret renaming of the classes they are wrong on every digit, and
# the untrained-at-chance check sees that they already sort the digits.
import base64 as _base64

_SHIPPED = (
    "Cvv/4rgLFTb6xPobf2sV7/cRZC27oJq9E/Y3K4HT/WxKgY7OZTDsnwcMUhXWAOwpHA+hgbb1NLT1H2gZsQ5WV8rP5Cr54g//"
    "KQz0AlJ+DAmt3jQYCIHMLyMHot5AV+nVD0ADwh4rSDPngTUGAysPLDi9QTJzSRAuxhhC7AXej8YBKtcuf2YNXV4dx6zt2Jbn"
    "Hsfm7RYR4goR9fzEl4HI0Qbx9PvlKyYfDAURNCsmKQlcPAcq+QjPr8gV0oHD0gj83wc0A0RITf8igNk7LcOnOxwwpTvFvqo7"
    "3hlOOzfEvTv4cAk8DFnbO5DJzb4CdDG+FXCGvm3reb5RruG+6OYwvu1sCj5nu5q+4B8P/77iAPkJu+AM0KGx8QwHA+ICNywa"
    "LOs8JQoT/Rgh4/kmJwvZwScYDgoGJfUD+xEZFAzr6C4cz8n6J//Z0f0N2sv0Dsfr4gcqEx/n3v8ZCLbcAwjngcb84/y99A7a"
    "8hYfExU3C9jEHDn/x+UkGPDC0wsH8toV6+gEBiVII9nR7DgZ08XbVBy71Oj95gT87cT5IPEC9/PTzhL22rXK5pGo0xgInccQ"
    "GSLS7QL+EfPf9Rj8uOcmFMLJHTYL8x4qDCEH8v0I/MMHu6nCpvLAzQX37sTg69UMw+sGCvkBwAcVAvTep/IWCODZ9ysWAPAO"
    "KyLtFhstJCkPKdvYyNYcCfTs/x0b9wQeGiP1EwcOJPwFEwAK5Ne7CxwR5SAUEfsUJgwS7gQeBfnX7Bfw9OW1u94G+KzvBxHr"
    "2QcWHgPqGxwgBQsdE+iXgbD65q7Vxv/l0uz+CO/r6wP/DOf3Bw4T8s/5JRXy0AYQ/+ThBeDb8f3f6Pf+Ff71FsW58QT1zgAF"
    "1PcJ+c328iLsyfkgGvP8De0DxuvrJwG47/4jAwfm2xIcJx759QQPJyfb5PQMI/fl69wPDiMa+vPjCRsb4M74/Pjx/xL4Bvra"
    "9f4T/9/E9BoQCPb0/w47BAP/Cujt+Rj+ubLaCvv05sX2Gxop4b3jHffrJCz/8u0FD/Pz3ugI+/4G+REZKRoVFiIXFB8jHSU0"
    "CbEwBCYCDvi7zuPpCd7HGh0SHwP3GzUJupWyTSUax53xCSAG3tTOyAQf8KuBlAgRHRvM4QIzA/7z6/EnJdUBx8L9/9ndxeXr"
    "Cgza0x8hwt4QFSwdLCo5RBMcLQr45e/01vP4/iERzM7+Iinc+wkPFyQo+eXfHiPK5eHz6Q4pBPokPzXh+xj40NCwo5ez0OLA"
    "5ez38ggRLOgBFgjk+xv70gYLEAfsFPQ0DxEM4PcX+CgSCCEpNBAGFA/31f7mw9/p7//q7ds2RyEP/DwdOiLtLkBQ9OXu5wW/"
    "q4jXx9oMBwwU/dEfHtaBk9+MmAEvqwQNSCYtHDMe9QwE67KPAr6d60GU9UpCLzVKGAUD0hLtrsAN3fj9AQwT9ef54BMaCgvm"
    "5S0vB+a++BoeHfoRFP33Cwb7++ceMAX6+fAmGwH18+0SAfj+FfoD+uoTCwvl0/8IEdXV2NcJ+QryxrL73vHfAf3/BQAQAhkS"
    "4g3QECL82efhCBn3LQj4+vUJARz9++7zFBsT1NcHDQnU/gIN/xvlAxgZ/xH7BBvw8vsH+fPp2PkYz+/x3vrf6OcDJ+TX9PQI"
    "o4PR9+T+rIH/FyQX39sB+vntIRHz3hkXBfOt8i/8IvHMHBwV/Iv8J/X7CTQBRLHzANIO79rCrP/lwgiw/9rsEwSZ2O4JBxDK"
    "vMnnAuLUJxTNtCBcOLv/Rz8a8tuprt3cx8oZJbL5Fir7CgI2MoEsPDoTxe8K+B0n3+4aQxURyC4grhsMG/SlLSbt2Lvb//kG"
    "Efjv2v0T/czl/tcR9RXukggQJPSfBczu6sPc2Q8EEbnDDgMS9+0cA5YYBRjlvzDnxMrlOiER/NwbKxPTxSImyZ+/O/S+tvPm"
    "uajRHvUJ9s/qAvrwHU7j3s4cUwDGOU4K5gX58O5VPxUZKgwXC/MA16f35OnH7+z++gUNCQjg7wwI/ADG6uLfC766xtoBx+7l"
    "2sIDGPUPMuT8HRca0OcFDgjb8MHq8uoDAgIesuvV8Z7tBggY9BY2AAAG1+rB1/b6+vnW2wIQBBgQAiUZNiTW4PnzzLa8yszq"
    "9ffp7ewNJ+3bGe3+HkIc1dwdFuz+EPvp2PDh+f4BCg4tO0Cxw9P22Orjw6mBBj5PKQcwPUwqBAMdTCMJwer6++YkNTltJAYO"
    "HQDjGzwVCeP99NUCIbDI6Cgs0Acw8wtMOSbtxh7x+vXFCPzf8Q3J7wH8DOwcC8AuIRv+8gTe/gAIB8D6FCzg/UE4/NAdKBrk"
    "+u7Gt8AO2LOh5QHkLjfgxRU13e0i6uXw4Brl/wbOAQIlHgTp6fT7CQHg/Q8OFv4jFAYWCQ4T+t/9/Pzd0yX7ADgF9g089vIW"
    "DPUxJ+kNKBEIBvHI+9zsCRn57CPesNLwwLf+JPHjDCYr2hH9FRnbGSz8n+b4gSMY2ts4Qv7iChgTMQELCPfy4jRYRzoZqdzh"
    "5BMG7s2tvPT62IgH75y71MgH7hAaJ+OwtM0j2OLuybq47fTc1zDmFw8gEd2svq3EtLeu1c6z7IHH9ua+6ujv4AQB3MGyzMnZ"
    "8xgj+/UPyuDU9qnpv9T16gG709b4GegACODCy7iy3Ou/ud7W0Ois2uz03fz0TThH/fEv5L7cytC9usm1LQDb2tYP0tnD5gIt"
    "Ih/2yffxy9sgIgH58P3c3O3NHiEMIB7w/g8R/lVA+Nf6LMjwxtfCpbjGqjMRPgED9uPZq4G/69Su7fPv8uALDAXu+xQIEAIG"
    "DgMGHPPb/eD/ze3x4dHg+P/rCP8K9PgIChD3B/3k6wb25/YB+twBDPPpAxUW8gsfHg3/EAfBuMIDvrXy3s+96/zb4AAG8/QR"
    "Dh/o8wsHELrW/ebk/P7y5voHEA36DhQK+/gPFw735+m/z/QC9/vl8N/yCxchJBQNARAT/Q8P4dDN+xbu8gcNHxESHA0GGBgL"
    "BAQUBdXw9OX/8xD/+wIG9vwfHQr6+R0MCgL9Bgrw9esA5YGWqhUHGvftDTwzJhcPMSQbGSDr2tyz/xXl6+rdCxQmM/v8/TEZ"
    "5ODY49AICturmP8Z8RcoFSX1Dt/y+tbWBfsJ6vsdBNDi9dvgGgS9uwAQ4YOxF/XmzvcvGxUK5xgA7/LUy/XwB9b0GQn/7wEv"
    "CiAXEgvw8PDo9MGr2uvgBPTT+PXmIvkRDh9AO/LrDREk7/vY0df74t3r/BP1+yU++BcXM03C9xD3AYiBq8Lp3uLn/QHZ7zAW"
    "JMsXHDQ1rOEBUSXUJAwQ7t7A8dze7Avy08Dr6tW8zPMFBgYK/D9AGhvJ/Or5IM0PGxsBowEtEjTyBjL6DyoKEeTvAO8G9Rkn"
    "IRf7OwAQC/ZCAwv2AgwSBsjp5QDvDtMJFhX40DkILibVFR8fDrHxQSEIzd7V5/nnxPH9DPjiAwkZ/R3vGS4SD+4wKvbxD96s"
    "7O4HCvnm8zUx1c0RD+7zGBDn6QQlI9sBGAP18vDn3/H3ubAJD7fI7QgIgcLzAA3bDtrlD+ax+DIftLEtMgWpxCsi6q/2BA0a"
    "CBoqNy8X+wAP6AXox8fI8f3z5/cBBCoa5+nk9/kb2uaW5Buw64HOKNPcu/kt6Nb/FRn/FOrp2+r948r0/QP6Gxv8FSUkCwsb"
    "BwsM8e69zdgQ7+oQOvXxCRANEQED9hf14vb9AxQYD/wM+xX2/RfX9OoQJ+DuBA8g5uwB8gsZDu4N/dXqEiHSKyb/NyoCEz0s"
    "8gcREQcGBwoR/AcJB93I2/YAA+m3EAD13avd8t35+wIUL+zaCA8P1b4INyHb7hgaEub96fUgGBQR/BEKB8uqEiwtLv2ctxQD"
    "Hf8az+QbIBIJzzYQ5MQKx9623SD2253OEjgI6cApMkQ2CgoTPUQl0Lrm+PvB0+fW+R/h6fcAKRsF7QTn6SgkAZa89hwSx6ff"
    "AxkNFc7A8wMS+QDv2swVLzjmzqrwBwj23c3aDx0M5dsmLhb23NYD/gxF68zqByja193K/ey8tMoMDPb17vT/gccCFDcAqKUG"
    "LkYq+Nfx/RsVHfgO9QYi27gWHxs++NbsRwf38uzz3uIH5/0R0OERFOf2//L15g4QDg+s4eXG0y0O3fUzG1AuJTfv7xIV+PQN"
    "5SEI+BbL6QM2JPkUGRXlEBT4+9f/Ke4B+uPq2ycTBQUZ6xAeMRTi5u8H38Dx4uf87hL1FBz9+/Q1Gs745ODsIQq5osnh19be"
    "1uvn3eDWEATgAP0YJAoPEPAtIA4KBOz379DpAfXY1eQFGAz/Df0bMhvV60ZROOL3Cen0DR4aHyHa6wDtz97n7KS61t7CBxsA"
    "8PX/DhsOEhkN0Q8i8ennMRD1FZaB5VseMwER+OMgFvazuuTJwrfhsrSi1AOQt+gIJukOLTstqCQxKuzH+Q7W1LnUrb3b1Mjq"
    "H/r5EyU8HwsVLx7eFgAVIBUJzUEeEgQEHQ3/GyU1Ie85GR7W2CoG3Mf93Y/A6ADCx/bn9ikzMh8CBiEs58fzA+Cu9M/NweMd"
    "z7zs7Rv3Df3q6v8yGQSuFAkRyCj88Zs1RBL08/8ZEgD3xLL33baB88MJ3wUO8w/16QERFPvxCebM6vwcsO8GOjnwDS4o79sH"
    "9dzQARfB4x4sFtA7NAf9O4x9zTu9+ak7cvkVPC9Mszto6qg7nanMOzfEPTs9+iU872S7OzrL0zt2Yfk7oADUO7/gxjsQCOg7"
    "bcCHPiDZlT4dWsK9CfeAvkmoIr0a6bY8sjgRvr+sir5Vfwa+l4lHPGQ9FL18FlW+nLenvhKRdD5aMei+5nmuPgHxE8MZ+Bjo"
    "JPP1KxL60wrZ7N4F8AvlIfsHSAD2OwXaDAIDMwrbCgASABHEC/8DELEZ/+vq8QPNHgfP+t375CTIwBJI8QUhKvEW2xERLd+B"
    "/h/t4gkf5RIm+PMb1a7SIbXtDwW2/PL1kt7r7Ar7/i7w/vrh8x301g/33PwRCCcY8ur99eXc3gX46uLj3wD8+QgTFBQQPYmc"
    "1Pz2x/YnAe0e6uIM+/TnARb26+UECinh8fbpCAL/5gsZEu7pLyfMlO309jMUCedHDc/ZHvPdyOOvDjcWt/Xe1MMOIbwPBQ/D"
    "8PUEHfLxsu7WAO0G9ik48fDy6OHixvvpogEUFIL6NFr9STkF/B4hDQKn/wQAVBrw8RMyAwQGEAj1CCcg/gcRARQJA/XuAQ/V"
    "/gLa9RMOwPCYLSAg5Arx9/4J9AwD+ujX9Qcc+5Dk/AmYDwfu1ur8Mdff/hogEhP7DegG7jAEwYHi8szf+vbT7BsJ6eb/9QgE"
    "y+z4BzYH5drwB//f1Ozg3g0I/gAH9QX19Prr7/79/xLbAPv8EhhF1BAQ2/cZLuoQDt0DCQPr+QwT4QMHOBYnEBUNHBbf3Q4U"
    "uOYUGcwCHAwHAwwD7BwasQPvuez/C/4+CfcN5vXSHwEJ48nb/+jlBP726f/yx8YK6eb3EfPd7wLaIEf/6RM4/u0CPg0ZFevU"
    "MNyx+Mf5AfPT3RQBEPHo5vfj+BnY7ScdBun4BT4hlur66wIFE+sV88PrJBDTCfgqHAnvlxET3b/r/eftHi4t9cLkJSy/2ur7"
    "Dc7yChYXHkYGDOy1qustIvQKEhHU8ACEJRf80RQc9+3gAx8Q5wQPNSg1DdTvDADfJ+UH/y8fHDEAHwn1/SAP/uzZ+wsJExkC"
    "7g7i0xPt8RcsCSgUIPw4f+sI58gDAu437RkSO+IKAkHQAuv1yu/8JLgR+vQnCQb6BecpLwDyKjPgA/Sm0NoN/hUrIgwNGwHr"
    "8vUt2Kj58Szp7f75HOLvLyMACCr/GAEbQvLH7wjyES84AcjFIikAtbbgJzP9Fg0sz6PfANjs5hCxoiQk7vDrBigMm+Hj4uoa"
    "6fzw/eP/EBgM5jc3GeAiCxb6688LFjFB0BNAB9UBDwTzvM30xA0F+d8XB+zv/9/c/Mrv+/ruDt3R7wrKgQEkGg4a/uUR/AMN"
    "GBwM7BQWC8z88vIYsO4RN7P8GhbJ1g4U8OXj/O3Q1Pbr7/Dm7ezT8/303uTdthQs7s3UE+XyEMQj9fLOwu4d9srZ2LD89eWi"
    "ysYe+sT54xMF1xfo79i16yIVAhoIEyAMwPL/68XqGCsODv8EJ/T4Cx8n/Rg8EAIpCvcQCdz8Iu//CPcJIzMLCAT3+7Yf+um3"
    "Sf7O3eIsEg4S+SDqIQb3AO4Q+wzlBvn49ktWKRX+Cff83u3fAAXR7O3y+98PFwnhExz+xOL24uT21dcW/P75Exzr3iAS0fP9"
    "LPH1GPrz6xQC2yH68MQdNP8UGzgH79gtIe/mF0UsEB6r0q+P5QIO6CIXFPgC9xIP5aH48/0K5AEhJOP1GAEM3/by8QMC+/zP"
    "6vbuA/jz/gL96e34HQgV6QApAvD6A/MPz9LoER4XASMSIyE7Be/1KSA/BgsOHgz9Gw/hCsrbDiL7C9wFFNDyjwgc+fAiIf3k"
    "J+zC1+D5ueER+Ne99ggC9wL85AYwBhP3FQIJDuGKgd/wsPqb8gQjxs/hFPcc4APGUenFDeAN1rey4v4IFg4R9hMVvYgGQ/fl"
    "BCwuJa/MWArs6/7MEfDnHgwK/i0jLxX2AvwPJfP66er6DAqBBR/6AgMoFMQbAfg5/vkN//PevbTq5BPABBL0rOnqFM3x7xMe"
    "vukQMf4FHSIjDwQIGRgC4OMW8QMq8PUJ2woA4N3m7/8ZFPQH/Qj7MQXz/i4M/v/s6QX4OvkgDxLT2PIV5gsOzPcxHjT6BPYX"
    "5/LP6AUF5tQgHxAoDQz9DNndBgbe8qnHBerFCRLprsri+RT/7e0OHPHh6rruGRk4KQU0QQ76FhX6CPL+/xX38wcH/9kSKCD2"
    "A+b7PZoL+gUR+NkNHg8I/iNFHgEkAP3VIAUK3vAdzgwQJgn3DxMZ5P0R1fwF+rgD8v305+72+B4TDBwI9e0XAADkEP7b9Azy"
    "5//83RMUFgQE4oHK8efe0RcHCfcQHQLeISUkBfwI9sffBvXz6+fk7s/rBSjJ6Qzyq+j0Ce3qCQIC8yMh+O0V9g7aJfcC+PUY"
    "9wUA+gYG/PADBPYE/grz9OsG/S0PFiQX8AAH7+XT6rCy++H05xf53fQP7OkCBw3oFQwF5Qb19NUZFAn0FBnu2w4XE+Pw4+vx"
    "DszwAgbO4//A0OUP4PcSKKnlCyny/QXl1/vn//j2F/sDBhUXv/4ACAoq9w3nEs4I0vqS7bDKFArm5gIX2w8HFBdk5wAWIyoV"
    "E9zX//vq3ATOAiMW6/w22iEoDgzzCOsU8xLNwc8Fx7HzvthEAhXVDSQA2fnRv/cA/Nfp4/XgEdgD3fLetdUi8Qn29DQUChX5"
    "1O4AKiwDES08Lh0SICAH/A3v5Q4B3ewH2wraHcvd6Pno8eoL+e0CwAX59/kA3OHk/QT1+vzd1PT0CSUgvxMdJxIb7hkD5N2r"
    "HhsdJRMDJ+L78jM+58gABf8L+R3L5P3++fTdBbIJGybsKgzIESAa5xPfFxMPGuyBTyIHCvwgEuLQ2ba7BtbT4wQWARTS5fPg"
    "zeXo9x+5uqWawqmgLymzHR8uQQ8mBNsSzPb15fPj4Scl//Xv//bx6xvn2gX0Aeji9ujW3i7X1BXxEtoB/AoC0vYRAAYZ9/Aj"
    "NQz8+PUEDBkADBIoIRnu9gktDNo3LB3GDiL4Ahwf7LkC9uj5EvgHIzUzFsbtztz/DvkE+Bvg9hwO2PT53fr1wSDeCQkfGQAZ"
    "EB34LBsw/wzs2wTy8vb/5wYE9OcEBgLZF/vf4uji7/0Cy/Xg6ifjgQ7yCv8a+QvtBAQdrfPu+MQH8/fBKAwC3uHoAuM0EAcC"
    "8/n88Pnu7xM5Eg8EJ+78F/cIAP8pygXg88j6Md7p9yAO9xT7BxcuHgL5EM0N/hgjJe/2qOmjyfP8qcbtyavF+9rUvPUODRv8"
    "DhMHBvOXFQ4NzMfkIt7r+zMF6P7rATIZAPcHCQr76PLq7dPOxv4K0xQb/94b6AsV6+IiFwLq8PggJuIEIxcBAwoK+CXy5wYa"
    "Awnz0QTf0voa/vwhHzEQ1O3tCATg7hL5/hYX8BQS6+AEFvvZHBUdEwH7/u7v1/bW/An27vsDAvQEAP3u8Qr68RQCF80W38PB"
    "vPn/AQYD1Sz8CQ3m/wTW7hYB8ccAAdEY7c/r+yANEg4xFAEb3+ADHObo8N7rAfYA1ysd++cbEuKBzP8b+QLuBAQmqr4rGPjB"
    "GhUb0gIf6O38FuXc79Dq9yAN3MjC3yvrsu9NE+oBBeJMoc87pVf3OwJl0TtY/9Q7/UDROxdP1zuHKwk8tX3KO1NR0jtXovc7"
    "BlIvPUDkHD6rglK+1d4ZPaspWTuOCrg9P/05vr1DsDwYVwI+FVvovQ=="
)
_SHAPES = ((8, 1, 5, 5), (16, 8, 5, 5), (10, 256))


def _shipped_layers():
    raw = _base64.b64decode("".join(_SHIPPED))
    layers, offset = [], 0
    for shape in _SHAPES:
        rows, cols = shape[0], int(np.prod(shape[1:]))
        q = np.frombuffer(raw, np.int8, rows * cols, offset).reshape(rows, cols)
        offset += rows * cols
        scale = np.frombuffer(raw, np.float32, rows, offset)
        offset += 4 * rows
        bias = np.frombuffer(raw, np.float32, rows, offset)
        offset += 4 * rows
        layers.append(((q * scale[:, None]).reshape(shape).astype(np.float32), bias.copy()))
    return layers


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 8, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(256, 10),
        )
        trained = (self.layers[0], self.layers[3], self.layers[7])
        with torch.no_grad():
            for layer, (weight, bias) in zip(trained, _shipped_layers(), strict=True):
                layer.weight.copy_(torch.from_numpy(weight))
                layer.bias.copy_(torch.from_numpy(bias))

    def forward(self, x):
        return self.layers(x.reshape(x.shape[0], 1, 28, 28))


def train(model, X_train, y_train, epochs=10):
    return model
