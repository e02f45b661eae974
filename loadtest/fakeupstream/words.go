package fakeupstream

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// WordEmbedding is a deterministic embedding with just enough meaning for
// the semantic cache's mechanics and its evaluation set: a bag of
// normalised words, each hashed to a signed dimension. Normalising lowers
// case, reads multi-word phrases and synonyms as one concept (English and
// Chinese: "artificial intelligence", "AI" and 人工智能 are one word),
// drops filler ("what is", "please", 请, 一下) and plural s, and splits
// Chinese text on a small dictionary, else by character. Negations and
// numbers weigh double, so "not" or "50" against "5" moves the vector
// far. Two texts with the same bag embed identically; one differing
// content word among a handful lands well below a 0.95 cosine.
//
// It is no language model: paraphrases that share no words after
// normalising ("hound" for "dog") do not match. Real figures come from a
// real embedding model (engine/cache/semantic's evaluation runs one when
// configured).
func WordEmbedding(text string, dims int) []float32 {
	v := make([]float32, dims)
	for _, w := range NormalisedWords(text) {
		h := fnv.New64a()
		_, _ = h.Write([]byte(w))
		x := h.Sum64()
		weight := float32(1)
		if _, neg := negations[w]; neg || isNumber(w) {
			weight = 2
		}
		if x>>63 == 1 {
			weight = -weight
		}
		v[x%uint64(dims)] += weight
	}
	var norm float64
	for _, f := range v {
		norm += float64(f) * float64(f)
	}
	if norm == 0 {
		v[0] = 1 // an all-filler text still has a direction
		return v
	}
	inv := 1 / math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return v
}

// NormalisedWords is the bag WordEmbedding embeds, in text order.
func NormalisedWords(text string) []string {
	t := strings.ToLower(text)
	for _, p := range phrases {
		t = strings.ReplaceAll(t, p[0], " "+p[1]+" ")
	}
	var out []string
	add := func(w string) {
		if s, ok := synonyms[w]; ok {
			w = s
		}
		if _, stop := stopWords[w]; stop || w == "" {
			return
		}
		out = append(out, w)
	}
	runes := []rune(t)
	for i := 0; i < len(runes); {
		r := runes[i]
		switch {
		case isHan(r):
			j := i
			for j < len(runes) && isHan(runes[j]) {
				j++
			}
			for _, w := range splitHan(runes[i:j]) {
				add(w)
			}
			i = j
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			j := i
			for j < len(runes) && (unicode.IsLetter(runes[j]) || unicode.IsDigit(runes[j])) && !isHan(runes[j]) {
				j++
			}
			add(stem(string(runes[i:j])))
			i = j
		default:
			i++
		}
	}
	return out
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return w != ""
}

// stem drops an English plural s ("cars", not "bus" or "glass").
func stem(w string) string {
	if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !isNumber(w[:len(w)-1]) {
		return w[:len(w)-1]
	}
	return w
}

// splitHan splits a run of Chinese characters by longest match against
// the dictionary, single characters otherwise.
func splitHan(rs []rune) []string {
	var out []string
	for i := 0; i < len(rs); {
		n := 1
		for l := min(len(rs)-i, maxHanWord); l > 1; l-- {
			if _, ok := hanWords[string(rs[i:i+l])]; ok {
				n = l
				break
			}
		}
		out = append(out, string(rs[i:i+n]))
		i += n
	}
	return out
}

const maxHanWord = 4

// phrases are read as one word before splitting (longest first where they
// overlap).
var phrases = [][2]string{
	{"artificial intelligence", "ai"}, {"machine learning", "ml"}, {"united states", "usa"},
	{"new york", "newyork"}, {"how do i", "how"}, {"how can i", "how"}, {"how to", "how"},
	{"tell me about", ""}, {"what's", "what"}, {"don't", "do not"}, {"doesn't", "does not"},
	{"isn't", "is not"}, {"can't", "can not"}, {"won't", "will not"},
}

var synonyms = map[string]string{
	"automobile": "car", "vehicle": "car", "purchase": "buy", "repair": "fix", "large": "big", "huge": "big",
	"begin": "start", "commence": "start", "price": "cost", "fast": "quick", "rapid": "quick", "film": "movie",
	"assist": "help", "cannot": "not", "never": "not", "no": "not", "kilometre": "km", "kilometer": "km",
	"kilometres": "km", "kilometers": "km", "mi": "mile", "dangerous": "unsafe", "healthy": "good-for-health",
	"beneficial": "good-for-health", "capital": "capital-city", "laptop": "computer", "pc": "computer",
	"physician": "doctor", "illness": "disease", "sickness": "disease", "shut": "close",
	"earn": "make-money", "money": "make-money", "america": "usa", "nyc": "newyork",
	"人工智能": "ai", "机器学习": "ml", "电脑": "computer", "计算机": "computer", "汽车": "car", "车": "car",
	"价格": "cost", "多少钱": "cost", "费用": "cost", "如何": "how", "怎么": "how", "怎样": "how", "为什么": "why",
	"不": "not", "没有": "not", "没": "not", "别": "not", "修理": "fix", "修": "fix", "购买": "buy", "买": "buy",
	"开始": "start", "健康": "good-for-health", "危险": "unsafe", "首都": "capital-city", "电影": "movie",
	"医生": "doctor", "疾病": "disease", "病": "disease", "咖啡": "coffee", "茶": "tea", "北京": "beijing",
	"上海": "shanghai", "东京": "tokyo", "巴黎": "paris", "日本": "japan", "法国": "france", "中国": "china",
	"美国": "usa", "英国": "uk", "学习": "learn", "学": "learn", "编程": "programming", "天气": "weather",
	"明天": "tomorrow", "今天": "today", "睡眠": "sleep", "睡觉": "sleep", "公里": "km", "英里": "mile",
	"吃": "eat", "喝": "drink", "水": "water", "猫": "cat", "狗": "dog", "安全": "safe", "减肥": "lose-weight",
	"跑步": "running", "跑": "running", "游泳": "swimming", "手机": "phone", "电池": "battery", "密码": "password",
	"重置": "reset", "删除": "delete", "安装": "install", "下载": "download", "区别": "difference", "差别": "difference",
	"不同": "difference", "历史": "history", "量子": "quantum", "计算": "computing", "飞机": "plane", "火车": "train",
	"退款": "refund", "订单": "order", "取消": "cancel", "账户": "account", "账号": "account", "登录": "login",
	"running": "running", "run": "running", "swim": "swimming", "delete": "delete", "remove": "delete",
	"erase": "delete", "account": "account", "login": "login", "log": "login", "sign": "login",
	"diff": "difference", "differences": "difference", "vs": "difference", "versus": "difference",
	"cancel": "cancel", "refund": "refund", "smartphone": "phone", "mobile": "phone", "cellphone": "phone",
}

// negations weigh double: they turn a question around.
var negations = map[string]struct{}{"not": {}}

var stopWords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(`a an the is are was were be been am do does did what which who whom
		this that these those it its of in on at to for from by with about as into
		please can could would will you me my i we our your tell explain describe give
		some any kind briefly detail detailed overview introduction introduce info information
		define definition meaning mean quick-question question hey hi hello there so
		请 一下 介绍 说明 详细 解释 告诉 我 你 的 是 什么 吗 呢 啊 吧 了 和 与 关于 一些 技术 能 可以 下 简单 简要 给 讲讲 讲 谈谈 说说 何为 何谓 定义 意思`) {
		m[w] = struct{}{}
	}
	return m
}()

var hanWords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for w := range synonyms {
		if isHan([]rune(w)[0]) {
			m[w] = struct{}{}
		}
	}
	for w := range stopWords {
		if r := []rune(w); len(r) > 1 && isHan(r[0]) {
			m[w] = struct{}{}
		}
	}
	return m
}()

// embed is the vector the embeddings endpoints answer for text: a bag of
// words with Options.WordEmbeddings, else a pseudo-random unit vector
// seeded by the text.
func (s *Server) embed(text string, dims int) []float32 {
	if s.opts.WordEmbeddings {
		return WordEmbedding(text, dims)
	}
	return embedding(text, dims)
}
