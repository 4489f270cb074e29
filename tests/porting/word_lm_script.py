"""A small LSTM word language model, written the PyTorch way (after pytorch/examples'
word_language_model, in our own words): tied weights, truncated BPTT with detached
state, SGD with clipping and a step schedule, evaluation under no_grad.

tests/test_port_pytorch.py runs this file twice: as written (PyTorch), and with only the
four import lines below changed to tinygrad_rnn's. Nothing else may change.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid))


class Dictionary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


def tokenize(dictionary, lines):
    idss = []
    for line in lines:
        words = line.split() + ["<eos>"]
        ids = [dictionary.add_word(word) for word in words]
        idss.append(torch.tensor(ids, dtype=torch.int64))
    return torch.cat(idss)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def evaluate(model, criterion, data_source, eval_batch_size, bptt):
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def main(train_lines, valid_lines, state_dict=None, epochs=3, emsize=16, nlayers=2, lr=1.0,
         bptt=4, batch_size=2, clip=0.25, log_interval=3):
    torch.manual_seed(1111)
    corpus = Dictionary()
    train_data = batchify(tokenize(corpus, train_lines), batch_size)
    val_data = batchify(tokenize(corpus, valid_lines), 2)
    ntokens = len(corpus)
    model = RNNModel(ntokens, emsize, emsize, nlayers, dropout=0.0, tie_weights=True).double()
    if state_dict is not None:
        model.load_state_dict(state_dict)
    criterion = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    losses, val_losses = [], []
    for epoch in range(1, epochs + 1):
        model.train()
        hidden = model.init_hidden(batch_size)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i, bptt)
            hidden = repackage_hidden(hidden)
            optimizer.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            losses.append(loss.item())
            if batch % log_interval == 0 and batch > 0:
                print(f"| epoch {epoch:3d} | {batch:5d} batches | loss {sum(losses[-log_interval:]) / log_interval:5.2f}")
        val_losses.append(evaluate(model, criterion, val_data, 2, bptt))
        scheduler.step()
        print(f"| epoch {epoch:3d} | lr {scheduler.get_last_lr()[0]:.3f} | valid ppl {math.exp(val_losses[-1]):8.2f}")
    names = [name for name, _ in model.named_parameters()]
    return losses, val_losses, model.state_dict(), names
